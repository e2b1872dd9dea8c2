"""FHIR R4 endpoints for GP systems: refer with a ServiceRequest, follow it with a Task.

Bodies are ``application/fhir+json`` (plain ``application/json`` is accepted too); every
error is an OperationOutcome with a 4xx status.
"""

import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlmodel import Session

from api.access import NOT_FOUND, Access, AccessDep
from api.consent import withholds_outcome_details
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import Refused
from api.fhir import writing
from api.fhir.errors import FhirError, FhirResource, fhir_error_response, fhir_json
from api.fhir.reading import referral_from
from api.fhir.systems import FHIR_JSON
from api.fhir.transaction import transaction_response
from api.idempotency import IdempotencyKey, StoredResponse, fingerprint, once
from api.intake import submit
from core.db import transaction_ended
from core.settings import Settings
from domain.tables import Referral

router = APIRouter(prefix="/fhir", tags=["fhir"])

FHIR_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FHIR_JSON: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
        "description": "A ServiceRequest with a contained Patient and Consent, or a "
        "transaction Bundle with ServiceRequest, Patient and Consent entries.",
    }
}
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": FhirResource, "description": "OperationOutcome"}
    for code in (400, 401, 403, 404, 409, 415, 422, 503)
}


@router.post(
    "/ServiceRequest",
    status_code=status.HTTP_201_CREATED,
    response_model=FhirResource,
    responses={
        200: {
            "model": FhirResource,
            "description": "A transaction Bundle's answer: a transaction-response Bundle",
        },
        **ERRORS,
    },
    openapi_extra=FHIR_BODY,
    summary="Refer a patient with a FHIR ServiceRequest (or transaction Bundle)",
)
async def create_service_request(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    access: AccessDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    try:
        referral = await run_in_threadpool(referral_from, await _json_body(request))
        submission, entries = referral.submission, referral.transaction_entries

        async def work(referral_id: UUID) -> StoredResponse:
            submitted = await submit(
                submission, access, session, settings, temporal, referral_id, referral.elements
            )
            body = await run_in_threadpool(_service_request, session, submitted.referral_id)
            if entries is None:
                return StoredResponse(status.HTTP_201_CREATED, body, FHIR_JSON)
            return StoredResponse(
                status.HTTP_200_OK, transaction_response(body, entries), FHIR_JSON
            )

        # A transaction and a lone ServiceRequest are answered differently: not the same
        # request, even with the same referral in them.
        operation = "POST /fhir/ServiceRequest" + (" transaction" if entries is not None else "")
        request_hash = fingerprint(operation, submission)
        try:
            stored = await once(
                session,
                access.principal,
                idempotency_key,
                request_hash,
                settings.idempotency,
                work,
            )
        except Refused as refused:
            raise FhirError.from_refusal(refused) from None
    except FhirError as error:
        return fhir_error_response(error)
    if stored.body["resourceType"] == "Bundle":
        return fhir_json(stored.body, stored.status_code)
    location = f"/fhir/ServiceRequest/{stored.body['id']}"
    return fhir_json(stored.body, stored.status_code, Location=location)


@router.get(
    "/ServiceRequest/{resource_id}",
    response_model=FhirResource,
    responses=ERRORS,
    summary="A referral as the FHIR ServiceRequest it was made with",
)
def read_service_request(resource_id: str, session: SessionDep, access: AccessDep) -> JSONResponse:
    try:
        referral = _visible(access, "ServiceRequest", resource_id)
    except FhirError as error:
        return fhir_error_response(error)
    return fhir_json(writing.service_request(session, referral))


@router.get(
    "/Task/{resource_id}",
    response_model=FhirResource,
    responses=ERRORS,
    summary="Where a referral stands, as a FHIR Task (SDOH Clinical Care statuses)",
)
def read_task(
    resource_id: str, session: SessionDep, access: AccessDep, settings: SettingsDep
) -> JSONResponse:
    try:
        referral = _visible(access, "Task", resource_id)
    except FhirError as error:
        return fhir_error_response(error)
    return fhir_json(_task(session, access, referral, settings))


@router.get(
    "/Task",
    response_model=FhirResource,
    responses=ERRORS,
    summary="Search Tasks by the ServiceRequest they fulfil: a searchset Bundle",
)
def search_tasks(
    session: SessionDep,
    access: AccessDep,
    settings: SettingsDep,
    based_on: Annotated[
        str,
        Query(alias="based-on", description="ServiceRequest/{id}", examples=["ServiceRequest/…"]),
    ],
) -> JSONResponse:
    kind, _, resource_id = based_on.rpartition("/")
    if kind not in ("ServiceRequest", ""):
        return fhir_error_response(
            FhirError.one(
                status.HTTP_400_BAD_REQUEST, "based-on must be ServiceRequest/{id}", "based-on"
            )
        )
    try:
        tasks = [_task(session, access, _visible(access, "Task", resource_id), settings)]
    except FhirError:
        # A search that finds nothing, or nothing this caller may see: the refusal is
        # logged, as a look at patient data that was not allowed.
        tasks = []
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(tasks),
        "entry": [
            {"fullUrl": f"Task/{task['id']}", "resource": task, "search": {"mode": "match"}}
            for task in tasks
        ],
    }
    return fhir_json(bundle)


def _service_request(session: Session, referral_id: UUID) -> dict[str, Any]:
    with transaction_ended(session):
        referral = session.get(Referral, referral_id)
        assert referral is not None, "submit commits the referral"
        return writing.service_request(session, referral)


async def _json_body(request: Request) -> object:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (FHIR_JSON, "application/json"):
        raise FhirError.one(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send the resource as {FHIR_JSON}",
            "Content-Type",
        )
    try:
        # Up to settings.max_fhir_body_size of JSON: parsed in a worker thread, not on the
        # event loop every other request shares.
        body: object = await run_in_threadpool(json.loads, await request.body())
    except (ValueError, UnicodeDecodeError):
        raise FhirError.one(status.HTTP_400_BAD_REQUEST, "the body is not valid JSON") from None
    return body


def _task(
    session: Session, access: Access, referral: Referral, settings: Settings
) -> dict[str, Any]:
    """The Task as this caller may see it: a practice whose patient agreed to codes only
    gets the outcome code, not the services taken up nor how the measures changed."""
    details = not withholds_outcome_details(access, referral.id)
    return writing.task(session, referral, outcome_details=details, thresholds=settings.measures)


def _visible(access: Access, kind: str, resource_id: str) -> Referral:
    """The referral if this caller may see it, by the rules of ``GET /referrals/{id}`` (and
    logged as that read is). Anything else answers as if it did not exist."""
    not_found = FhirError.one(status.HTTP_404_NOT_FOUND, f"No {kind}/{resource_id}.", kind)
    try:
        referral_id = UUID(resource_id)
    except ValueError:
        access.log(outcome=NOT_FOUND)  # the refused attempt, as for any other id
        raise not_found from None
    try:
        return access.visible_referral_or_404(referral_id)
    except HTTPException:
        raise not_found from None
