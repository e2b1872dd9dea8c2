"""Why a request was refused, independent of how a route words it (JSON or FHIR)."""

from uuid import UUID

from fastapi import status
from fastapi.responses import JSONResponse

from api.schemas import ReferralConflict

# Fields that come in request headers rather than the body.
HEADERS = {"Idempotency-Key"}


class Refused(Exception):
    """A request that changes nothing: the status to answer, the field at fault if one is,
    and what to do about it. Messages name fields and codes, never personal details."""

    def __init__(
        self,
        status_code: int,
        message: str,
        field: str | None = None,
        existing_referral_id: UUID | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.field = field
        self.existing_referral_id = existing_referral_id

    @property
    def detail(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def unavailable() -> Refused:
    return Refused(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "The referral could not be started and was not saved; send it again.",
    )


def json_refusal(refused: Refused) -> JSONResponse:
    """The JSON API's wording: ``detail`` names the field and what to fix; a 422 has the
    documented ``HTTPValidationError`` shape every other 422 has."""
    if refused.status_code == status.HTTP_422_UNPROCESSABLE_CONTENT:
        where = "header" if refused.field in HEADERS else "body"
        location = (where, refused.field) if refused.field else ("body",)
        problem = {"loc": location, "msg": refused.message, "type": "value_error"}
        return JSONResponse(
            {"detail": [{**problem, "field": refused.field or "body"}]},
            status_code=refused.status_code,
        )
    body: dict[str, object] = {"detail": refused.detail}
    if refused.status_code == status.HTTP_409_CONFLICT and refused.field == "nhs_number":
        body = ReferralConflict(
            detail=refused.detail, existing_referral_id=refused.existing_referral_id
        ).model_dump(mode="json")
    return JSONResponse(body, status_code=refused.status_code)
