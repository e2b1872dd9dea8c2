"""422s that name the field and say what to fix, without echoing what was sent.

FastAPI's default puts each bad value (``input``), or for a missing field the whole body, in
the answer; a referral body is personal data, so only where, what and why are kept. The
shape stays FastAPI's documented ``HTTPValidationError`` (``loc``, ``msg``, ``type``), with
``field`` added: the location as one dotted name.
"""

from fastapi import Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.fhir.errors import FhirError, fhir_error_response, is_fhir_path

# Where a value came from is said by ``loc``; these prefixes add nothing to the field name.
SOURCES = {"body", "query", "path", "header", "cookie"}


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    if is_fhir_path(request.url.path):
        # FHIR routes answer every error as an OperationOutcome, as their schema says.
        return fhir_error_response(_as_fhir(error))
    detail = []
    for problem in error.errors():
        location = [str(part) for part in problem.get("loc", ())]
        named = location[1:] if location and location[0] in SOURCES else location
        detail.append(
            {
                "loc": problem.get("loc", ()),
                "msg": problem.get("msg", ""),
                "type": problem.get("type", ""),
                "field": ".".join(named) or "body",
            }
        )
    return JSONResponse(
        jsonable_encoder({"detail": detail}), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


def _as_fhir(error: RequestValidationError) -> FhirError:
    issues: list[tuple[str, str | None]] = []
    for problem in error.errors():
        location = [str(part) for part in problem.get("loc", ())]
        named = location[1:] if location and location[0] in SOURCES else location
        issues.append((str(problem.get("msg", "")), ".".join(named) or None))
    return FhirError(status.HTTP_422_UNPROCESSABLE_CONTENT, issues)
