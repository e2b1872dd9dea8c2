"""Errors as FHIR OperationOutcomes with a 4xx status."""

from typing import Any

from fastapi import Request, Response, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from api.errors import Refused, field_name, json_validation_error
from api.fhir.systems import FHIR_JSON

# Where each submission field comes from in the resources a GP system sends.
FIELD_PATHS = {
    "practice_ods": "ServiceRequest.requester",
    "nhs_number": "Patient.identifier",
    "given_name": "Patient.name.given",
    "family_name": "Patient.name.family",
    "birth_date": "Patient.birthDate",
    "postcode": "Patient.address.postalCode",
    "address": "Patient.address.line",
    "phone": "Patient.telecom",
    "email": "Patient.telecom",
    "reason": "ServiceRequest.reasonCode.text",
    "need_codes": "ServiceRequest.reasonCode.coding",
    "consent_given": "Consent.status",
    "share_with_organisations": "Consent.provision",
    "outcome_to_gp": "Consent.provision",
    "preferred_contact": "Patient.extension",
    "contact_consent": "Consent.provision",
    "Idempotency-Key": "Idempotency-Key",
}

ISSUE_CODES = {
    status.HTTP_400_BAD_REQUEST: "structure",
    status.HTTP_401_UNAUTHORIZED: "login",
    status.HTTP_403_FORBIDDEN: "forbidden",
    status.HTTP_404_NOT_FOUND: "not-found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "not-supported",
    status.HTTP_409_CONFLICT: "duplicate",
    status.HTTP_422_UNPROCESSABLE_CONTENT: "invalid",
    status.HTTP_503_SERVICE_UNAVAILABLE: "transient",
}


class FhirResource(BaseModel):
    """Any FHIR resource, as JSON (documented loosely; the resource type says the rest)."""

    model_config = ConfigDict(extra="allow")
    resourceType: str
    id: str | None = None


class FhirError(Exception):
    def __init__(self, status_code: int, issues: list[tuple[str, str | None]]) -> None:
        """``issues``: (what is wrong and how to fix it, FHIRPath of the element or None)."""
        super().__init__(issues[0][0] if issues else "")
        self.status_code = status_code
        self.issues = issues

    @classmethod
    def one(cls, status_code: int, diagnostics: str, expression: str | None = None) -> "FhirError":
        return cls(status_code, [(diagnostics, expression)])

    @classmethod
    def from_refusal(cls, refused: Refused) -> "FhirError":
        diagnostics = refused.message
        if refused.existing_referral_id is not None:
            diagnostics += f" (ServiceRequest/{refused.existing_referral_id})"
        path = FIELD_PATHS.get(refused.field or "")
        return cls.one(refused.status_code, diagnostics, path)


def operation_outcome(error: FhirError) -> dict[str, Any]:
    code = ISSUE_CODES.get(error.status_code, "processing")
    issues = []
    for diagnostics, expression in error.issues:
        issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": diagnostics}
        if expression:
            issue["expression"] = [expression]
        issues.append(issue)
    return {"resourceType": "OperationOutcome", "issue": issues}


def fhir_error_response(error: FhirError) -> JSONResponse:
    return JSONResponse(
        operation_outcome(error), status_code=error.status_code, media_type=FHIR_JSON
    )


def fhir_json(body: dict[str, Any], status_code: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=FHIR_JSON, headers=headers)


def is_fhir_path(path: str) -> bool:
    return path == "/fhir" or path.startswith("/fhir/")


async def http_error(request: Request, error: Exception) -> Response:
    """Every HTTPException: on a FHIR path an OperationOutcome with the same status and headers
    (a 401's ``WWW-Authenticate``, a 405's ``Allow``), whoever raised it (sign-in, routing,
    access checks); elsewhere FastAPI's own ``{"detail": ...}``."""
    assert isinstance(error, HTTPException)
    if not is_fhir_path(request.url.path) or error.status_code < 400:
        return await http_exception_handler(request, error)
    # Details of HTTPExceptions name routes, fields and ids, never personal details.
    diagnostics = error.detail if isinstance(error.detail, str) else str(error.detail)
    response = fhir_error_response(FhirError.one(error.status_code, diagnostics))
    response.headers.update(error.headers or {})
    return response


async def validation_error(request: Request, error: Exception) -> Response:
    """Every 422 of FastAPI's validation: on a FHIR path an OperationOutcome, as the FHIR
    routes' schema says; elsewhere the JSON API's shape (``api.errors``)."""
    assert isinstance(error, RequestValidationError)
    if not is_fhir_path(request.url.path):
        return json_validation_error(error)
    issues = [
        (str(problem.get("msg", "")), field_name(problem.get("loc", ())))
        for problem in error.errors()
    ]
    return fhir_error_response(FhirError(status.HTTP_422_UNPROCESSABLE_CONTENT, issues))
