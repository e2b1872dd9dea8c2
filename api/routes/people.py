"""A person's rights over their records: ``/admin/people/*`` (a copy of everything held,
erasure; admins only, everyone else gets 404) and ``PATCH /referrals/{id}/contact-details``
(correction, by the practice that referred or the link worker's team).

The NHS number goes in the body of a POST, never in an address, so no access log, proxy log
or browser history holds it."""

import logging
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from temporalio.service import RPCError

from activities.records import person_record, person_record_pdf
from activities.retention import delete_histories
from api.access import AccessDep, admin_only
from api.errors import ACTIONABLE, SIGNED_IN, problem
from api.records import (
    ContactCorrection,
    ContactDetails,
    Erased,
    ExportAsked,
    PersonAsked,
    correct_contact_details,
    erase,
)

log = logging.getLogger(__name__)
# Admins are unscoped commissioners: the service's own staff who answer rights requests.
admin = APIRouter(prefix="/admin/people", tags=["data rights"], dependencies=[Depends(admin_only)])
corrections = APIRouter(tags=["data rights"])


@admin.post(
    "/export",
    responses={
        **SIGNED_IN,
        200: {
            "description": "Everything held about the person: JSON, or a PDF to give them.",
            "content": {"application/pdf": {}},
        },
    },
    summary="Subject access: everything held about a person (admins only)",
)
def export_person(asked: ExportAsked, access: AccessDep) -> Response:
    # A plain def: FastAPI runs it in a worker thread, off the event loop.
    try:
        record = person_record(access.session, asked.nhs_number)
    finally:
        access.session.commit()
    access.log_all(record.referral_ids)
    if asked.format == "pdf":
        return Response(
            person_record_pdf(record),
            media_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="record.pdf"'},
        )
    return JSONResponse(record.as_json())


@admin.post(
    "/erase",
    response_model=Erased,
    responses={**SIGNED_IN, 409: problem("The person has an open referral.")},
    summary="Erase a person early: redact their details as retention would (admins only)",
)
async def erase_person_now(asked: PersonAsked, access: AccessDep, request: Request) -> Erased:
    erased = await run_in_threadpool(erase, access, asked.nhs_number)
    temporal = request.app.state.temporal
    if temporal is not None and erased.redacted_referrals:
        try:
            await delete_histories(temporal, erased.redacted_referrals)
        except RPCError:
            # The details are gone already; the histories (codes and answers under the
            # referral's id) go at the namespace's retention instead.
            log.warning("erasure could not delete the workflow histories now")
    return erased


@corrections.patch(
    "/referrals/{referral_id}/contact-details",
    response_model=ContactDetails,
    responses={**ACTIONABLE, 409: problem("The person's details were redacted.")},
    summary="Correct the person's phone, email, address or preferred contact",
)
def correct_contact(
    referral_id: UUID, correction: ContactCorrection, access: AccessDep
) -> ContactDetails:
    return correct_contact_details(access, referral_id, correction)
