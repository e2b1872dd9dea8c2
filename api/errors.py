"""How the JSON API says no: one exception for every refusal, the 422 shape, the 503 for a
database that cannot answer now, and the documented responses routes share.

- ``Refused`` is what code below the routes raises when a request changes nothing: the step
  service, intake and idempotency. JSON routes let the handler answer it; web pages catch it
  and show ``message`` (next to ``field`` when one is named). FHIR routes word it as an
  OperationOutcome (``api.fhir.errors``).
- ``invalid`` answers a 422 for input that parses but cannot be used, shaped as FastAPI's own.
- A pool with no free connection, or a database that cannot be reached, answers 503 with
  ``Retry-After`` within the pool timeout (``core.db``), never a hang or a 500.
"""

import logging
from collections.abc import Sequence
from typing import Any, NoReturn
from uuid import UUID

from fastapi import Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.schemas import ReferralConflict

log = logging.getLogger(__name__)

# Fields that come in request headers rather than the body.
HEADERS = {"Idempotency-Key"}
# Where a value came from is said by ``loc``; these prefixes add nothing to the field name.
SOURCES = {"body", "query", "path", "header", "cookie"}
RETRY_AFTER_SECONDS = "2"


class Refused(Exception):
    """A request that changes nothing: the status to answer, the field at fault if one is
    (dotted, e.g. ``service_ids.0``), and what to do about it. Messages name fields and codes,
    never personal details."""

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


def invalid(location: tuple[str | int, ...], message: str) -> NoReturn:
    """Answer 422 naming the field, e.g. ``invalid(("body", "service_ids", 0), "...")``: the
    same ``detail`` list FastAPI gives for a malformed field, as the OpenAPI document says."""
    raise RequestValidationError([{"loc": location, "msg": message, "type": "value_error"}])


# --- the response bodies ----------------------------------------------------------------


class Problem(BaseModel):
    """What is wrong, e.g. ``No referral ...`` or ``Only a link worker may ...``."""

    detail: str


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    field: str = Field(description="Where, as one dotted name, e.g. service_ids.0.")


class ValidationProblem(BaseModel):
    """A 422: each field at fault, and what to fix. The values sent are never echoed."""

    detail: list[FieldProblem]


def problem(description: str, model: type[BaseModel] = Problem) -> dict[str, Any]:
    """One documented response, e.g. ``{409: problem("The person has an open referral.")}``."""
    return {"model": model, "description": description}


Responses = dict[int | str, dict[str, Any]]
# What routes really answer besides success, by what they check: spread into ``responses=``.
PUBLIC: Responses = {
    422: problem("A value is missing or cannot be used; each field says why.", ValidationProblem),
    503: problem("The database or the workflow service did not answer; try again."),
}
SIGNED_IN: Responses = {**PUBLIC, 401: problem("Not signed in, or the sign-in has expired.")}
VISIBLE: Responses = {**SIGNED_IN, 404: problem("Not found, or not yours to see.")}
ACTIONABLE: Responses = {**VISIBLE, 403: problem("Yours to see, but not yours to do.")}
STEP: Responses = {
    **ACTIONABLE,
    409: problem("Not possible at this point of the referral, or it is closed."),
}


# --- handlers ---------------------------------------------------------------------------


def json_refusal(refused: Refused) -> JSONResponse:
    """The JSON API's wording: ``detail`` names the field and what to fix; a 422 has the
    documented ``HTTPValidationError`` shape every other 422 has."""
    if refused.status_code == status.HTTP_422_UNPROCESSABLE_CONTENT:
        where = "header" if refused.field in HEADERS else "body"
        parts = [int(p) if p.isdigit() else p for p in (refused.field or "").split(".") if p]
        problem = {"loc": [where, *parts], "msg": refused.message, "type": "value_error"}
        return JSONResponse(
            {"detail": [{**problem, "field": refused.field or "body"}]},
            status_code=refused.status_code,
        )
    body: dict[str, object] = {"detail": refused.detail}
    if refused.status_code == status.HTTP_409_CONFLICT and refused.field == "nhs_number":
        body = ReferralConflict(
            detail=refused.detail, existing_referral_id=refused.existing_referral_id
        ).model_dump(mode="json")
    headers = None
    if refused.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
    return JSONResponse(body, status_code=refused.status_code, headers=headers)


async def refused_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Refused)
    return json_refusal(error)


def field_problems(error: RequestValidationError) -> list[dict[str, Any]]:
    """FastAPI's problems without the values sent (``input``): a referral body is personal
    data, so only where, what and why are kept, with ``field``: the location as one name."""
    return [
        {
            "loc": problem.get("loc", ()),
            "msg": problem.get("msg", ""),
            "type": problem.get("type", ""),
            "field": field_name(problem.get("loc", ())) or "body",
        }
        for problem in error.errors()
    ]


def field_name(location: Sequence[object]) -> str | None:
    """``("body", "service_ids", 0)`` as ``service_ids.0``; None for the body as a whole."""
    parts = [str(part) for part in location]
    named = parts[1:] if parts and parts[0] in SOURCES else parts
    return ".".join(named) or None


def json_validation_error(error: RequestValidationError) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder({"detail": field_problems(error)}),
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def database_unavailable(_: Request, error: Exception) -> JSONResponse:
    """No free connection in the pool within its timeout, or no database to connect to."""
    # The statement and its parameters may hold personal details: only the kind is logged.
    log.warning("database unavailable: %s", type(error).__name__)
    return json_refusal(
        Refused(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "The database is busy or cannot be reached; try again in a moment.",
        )
    )
