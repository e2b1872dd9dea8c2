"""The "Correct contact details" page, for the practice that referred and for the link
worker's team: one form, under each role's own referral path, through the same
``api.records.correct_contact_details`` as ``PATCH /referrals/{id}/contact-details``."""

from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.access import LINK_WORKER_TEAM, PRACTICE, Access
from api.errors import Refused
from api.records import ContactCorrection, correct_contact_details
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from api.web.words import CONTACT_PREFERENCE
from domain.enums import OrganisationKind
from domain.tables import Consent, Person

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Each role's referral page, under which the form lives.
REFERRAL_PAGE = {PRACTICE: "/practice/referrals/{}", LINK_WORKER_TEAM: "/caseload/referrals/{}"}
FIELDS = ("phone", "email", "address", "preferred_contact")
DONE = "contact-corrected"
BANNER = "Contact details corrected"
FIELD_MESSAGES = {
    "phone": "Enter a phone number of 40 characters or fewer",
    "email": "Enter an email address in the correct format, like name@example.com",
    "address": "Enter an address of 500 characters or fewer",
    "preferred_contact": "Select how the person prefers to be contacted",
}


def _page(
    request: Request,
    access: Access,
    referral_id: UUID,
    kind: OrganisationKind,
    answers: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    access.visible_referral_or_404(referral_id)
    person = access.session.get(Person, referral_id)
    consent = access.session.get(Consent, referral_id)
    access.session.commit()
    assert person is not None and consent is not None, "intake writes both with a referral"
    if person.redacted_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    current = {
        "phone": person.phone or "",
        "email": person.email or "",
        "address": person.address or "",
        "preferred_contact": str(consent.preferred_contact),
    }
    return render(
        request,
        "contact_details.html",
        status_code=422 if errors else 200,
        title="Correct contact details",
        person=person,
        action=request.url.path,
        back=REFERRAL_PAGE[kind].format(referral_id),
        answers=answers or current,
        contact_preferences=CONTACT_PREFERENCE,
        errors=errors or {},
    )


def _correction(answers: dict[str, str]) -> ContactCorrection:
    # Every field is on the form: an emptied one removes that detail.
    return ContactCorrection.model_validate(
        {name: answers[name].strip() or None for name in FIELDS}
    )


async def _correct(
    request: Request, access: Access, referral_id: UUID, kind: OrganisationKind
) -> Response:
    role_or_404(access, kind)
    form = await request.form()
    answers = {name: str(form.get(name, "")) for name in FIELDS}
    try:
        correction = _correction(answers)
        await run_in_threadpool(correct_contact_details, access, referral_id, correction)
    except ValidationError as invalid:
        errors = {
            str(error["loc"][0]): FIELD_MESSAGES[str(error["loc"][0])]
            for error in invalid.errors()
            if error["loc"] and str(error["loc"][0]) in FIELD_MESSAGES
        }
        return await run_in_threadpool(_page, request, access, referral_id, kind, answers, errors)
    except Refused as refused:
        if refused.status_code == status.HTTP_404_NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found") from None
        field = refused.field if refused.field in FIELDS else "phone"
        message = refused.message[:1].upper() + refused.message[1:]
        return await run_in_threadpool(
            _page, request, access, referral_id, kind, answers, {field: message}
        )
    back = REFERRAL_PAGE[kind].format(referral_id)
    return RedirectResponse(f"{back}?done={DONE}", status.HTTP_303_SEE_OTHER)


@router.get("/practice/referrals/{referral_id}/contact-details")
def practice_form(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    role_or_404(access, PRACTICE)
    return _page(request, access, referral_id, PRACTICE)


@router.post("/practice/referrals/{referral_id}/contact-details")
async def practice_correct(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    return await _correct(request, access, referral_id, PRACTICE)


@router.get("/caseload/referrals/{referral_id}/contact-details")
def link_worker_form(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    role_or_404(access, LINK_WORKER_TEAM)
    return _page(request, access, referral_id, LINK_WORKER_TEAM)


@router.post("/caseload/referrals/{referral_id}/contact-details")
async def link_worker_correct(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    return await _correct(request, access, referral_id, LINK_WORKER_TEAM)
