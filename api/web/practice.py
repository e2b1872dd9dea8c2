"""GP practices' pages: refer someone (form, check your answers, confirmation), "Your
referrals", one referral with its timeline and outcome, and cancelling or recording that
consent was withdrawn.

A referral goes through the same intake as ``POST /referrals`` (``api.intake.submit``, with
``api.idempotency.once``): the answers are validated by ``ReferralSubmission`` and refused by
intake exactly as there. The answers travel in the form's hidden fields between the form and
"Check your answers", never in an address; the idempotency key is made when "Check your
answers" is shown, so sending it twice (a double click) makes one referral.
"""

from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import col, select
from starlette.datastructures import FormData

from api.access import PRACTICE, Access
from api.deps import SettingsDep, TemporalDep
from api.errors import Refused
from api.idempotency import StoredResponse, fingerprint, once
from api.intake import submit
from api.referral_detail import as_seen_by, read_referral
from api.schemas import NOTE_LENGTH, Note, ReferralCreated, ReferralSubmission
from api.steps import Steps
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from api.web.words import (
    CLOSURE_REASON,
    CONTACT_PREFERENCE,
    GP_OUTCOME_SHARING,
    ORGANISATION_SHARING,
    REFERRAL_STATUS,
    nhs_number,
    timeline_entry,
)
from catalogue.taxonomy import SOCIAL_PRESCRIBING_TERMS
from domain.codes import REFERRAL_TO_SOCIAL_PRESCRIBING, SNOMED_DISPLAY, snomed_code_for_closure
from domain.enums import ProjectionAction, ReferralStatus
from domain.tables import LinkWorker, Person, Referral

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25
FORM_ID = "referral-form"
YES, NO = "yes", "no"
# Every answer of the form, in its order: the error summary lists errors in this order.
TEXT_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "postcode",
    "address",
    "phone",
    "email",
    "reason",
)
DATE_PARTS = ("day", "month", "year")
CHOICE_FIELDS = (
    "preferred_contact",
    "contact_consent",
    "consent_given",
    "share_with_organisations",
    "outcome_to_gp",
)
YES_NO_FIELDS = ("contact_consent", "consent_given")
FIELD_ORDER = (
    "nhs_number",
    "given_name",
    "family_name",
    "birth_date",
    "postcode",
    "address",
    "phone",
    "email",
    "preferred_contact",
    "contact_consent",
    "reason",
    "need_codes",
    "consent_given",
    "share_with_organisations",
    "outcome_to_gp",
)
LABELS = {
    "nhs_number": "NHS number",
    "given_name": "First name",
    "family_name": "Last name",
    "birth_date": "Date of birth",
    "postcode": "Postcode",
    "address": "Address",
    "phone": "Phone number",
    "email": "Email address",
    "preferred_contact": "How they prefer to be contacted",
    "contact_consent": "Agreed to be contacted",
    "reason": "Why you are referring them",
    "need_codes": "What they need help with",
    "consent_given": "Agreed to be referred",
    "share_with_organisations": "What services may see",
    "outcome_to_gp": "What comes back to you",
}
MISSING = {
    "nhs_number": "Enter the person's NHS number",
    "given_name": "Enter the person's first name",
    "family_name": "Enter the person's last name",
    "birth_date": "Enter the person's date of birth",
    "postcode": "Enter the person's postcode",
    "reason": "Enter why you are referring the person",
    "need_codes": "Select at least one thing the person needs help with",
    "preferred_contact": "Select how the person prefers to be contacted",
    "contact_consent": "Select whether the person agreed to be contacted",
    "consent_given": "Select whether the person agreed to be referred",
    "share_with_organisations": "Select what the person agreed services may see",
    "outcome_to_gp": "Select what the person agreed may come back to you",
}
DONE = {
    "cancelled": "Referral cancelled",
    "withdrawn": "Consent withdrawal recorded",
    "contact-corrected": "Contact details corrected",
}

Answers = dict[str, Any]


# --- refer someone ----------------------------------------------------------------------


def answers_from(form: FormData) -> Answers:
    """What was typed and chosen, as sent (kept to show again, never in an address)."""
    answers: Answers = {name: str(form.get(name, "")) for name in TEXT_FIELDS + CHOICE_FIELDS}
    answers["birth_date"] = {part: str(form.get(f"birth_date[{part}]", "")) for part in DATE_PARTS}
    answers["need_codes"] = [str(code) for code in form.getlist("need_codes")]
    return answers


def submission_body(answers: Answers, practice_ods: str) -> dict[str, Any]:
    """The answers as ``POST /referrals`` takes them: an empty answer is no answer."""
    body: dict[str, Any] = {"practice_ods": practice_ods}
    for name in TEXT_FIELDS + CHOICE_FIELDS:
        value = answers[name].strip()
        if value:
            body[name] = value == YES if name in YES_NO_FIELDS else value
    day, month, year = (answers["birth_date"][part].strip() for part in DATE_PARTS)
    if day or month or year:
        parts = (year.zfill(4), month.zfill(2), day.zfill(2))
        body["birth_date"] = "-".join(parts) if all(p.isdigit() for p in parts) else "not a date"
    if answers["need_codes"]:
        body["need_codes"] = answers["need_codes"]
    return body


def validate(
    answers: Answers, practice_ods: str
) -> tuple[ReferralSubmission | None, dict[str, str]]:
    """The submission, or the API's own validation errors by field id, in the form's order."""
    try:
        return ReferralSubmission.model_validate(submission_body(answers, practice_ods)), {}
    except ValidationError as error:
        found: dict[str, str] = {}
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else ""
            found.setdefault(name, _message(name, problem["type"], problem["msg"]))
        ordered = {field_id(name): found[name] for name in FIELD_ORDER if name in found}
        others = [text for name, text in found.items() if name not in FIELD_ORDER]
        return None, ordered | ({FORM_ID: others[0]} if others else {})


def field_id(name: str) -> str:
    """Where an error about ``name`` links: a date links to its day."""
    return "birth_date-day" if name == "birth_date" else name


def _message(name: str, kind: str, text: str) -> str:
    if kind == "missing" or kind == "string_too_short":
        return MISSING.get(name, f"Enter {LABELS.get(name, name).lower()}")
    if name == "birth_date" and kind.startswith("date_"):
        return "Date of birth must be a real date, for example 14 3 1948"
    text = text.removeprefix("Value error, ")
    label = LABELS.get(name, name)
    if text.startswith("must"):
        return f"{label} {text}"
    return f"{label}: {text}" if name in LABELS else text[:1].upper() + text[1:]


def _form(
    request: Request,
    answers: Answers,
    errors: dict[str, str] | None = None,
    existing_referral_id: UUID | None = None,
) -> Response:
    return render(
        request,
        "practice/refer.html",
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT if errors else 200,
        title="Refer someone",
        errors=errors or {},
        answers=answers,
        existing_referral_id=existing_referral_id,
        needs=sorted(SOCIAL_PRESCRIBING_TERMS.items(), key=lambda term: term[1]),
        contact_preferences=CONTACT_PREFERENCE,
        organisation_sharing=ORGANISATION_SHARING,
        gp_outcome_sharing=GP_OUTCOME_SHARING,
        form_id=FORM_ID,
    )


@router.get("/practice/refer")
def refer_form(request: Request, access: PageAccess) -> Response:
    role_or_404(access, PRACTICE)
    return _form(request, answers_from(FormData()))


@router.post("/practice/refer")
async def check_answers(request: Request, access: PageAccess) -> Response:
    role_or_404(access, PRACTICE)
    answers = answers_from(await request.form())
    submission, errors = validate(answers, access.principal.organisation_id)
    if submission is None:
        return _form(request, answers, errors)
    return render(
        request,
        "practice/check_answers.html",
        title="Check your answers before sending the referral",
        answers=answers,
        rows=_answer_rows(answers, submission),
        # Made now: the same page sent twice makes one referral.
        idempotency_key=str(uuid4()),
    )


@router.post("/practice/refer/change")
async def change_answers(request: Request, access: PageAccess) -> Response:
    """Back to the form from "Check your answers", with every answer kept."""
    role_or_404(access, PRACTICE)
    return _form(request, answers_from(await request.form()))


@router.post("/practice/refer/send")
async def send_referral(
    request: Request, access: PageAccess, settings: SettingsDep, temporal: TemporalDep
) -> Response:
    role_or_404(access, PRACTICE)
    form = await request.form()
    answers = answers_from(form)
    submission, errors = validate(answers, access.principal.organisation_id)
    if submission is None:
        return _form(request, answers, errors)
    key = str(form.get("idempotency_key", "")) or None

    async def work(referral_id: UUID) -> StoredResponse:
        submitted = await submit(
            submission, access, access.session, settings, temporal, referral_id
        )
        created = ReferralCreated(
            id=submitted.referral_id,
            workflow_id=submitted.workflow_id,
            status=ReferralStatus.RECEIVED,
        )
        return StoredResponse(201, created.model_dump(mode="json"), "application/json")

    try:
        stored = await once(
            access.session,
            access.principal,
            key,
            fingerprint("POST /referrals", submission),
            settings.idempotency,
            work,
        )
    except Refused as refused:
        where = field_id(refused.field) if refused.field in FIELD_ORDER else FORM_ID
        message = _refusal_message(refused)
        return _form(request, answers, {where: message}, refused.existing_referral_id)
    referral_id = stored.body["id"]
    return RedirectResponse(f"/practice/referrals/{referral_id}/sent", status.HTTP_303_SEE_OTHER)


def _refusal_message(refused: Refused) -> str:
    if refused.status_code == status.HTTP_409_CONFLICT and refused.field == "nhs_number":
        return (
            "This person already has an open referral. You can refer them again once it is closed"
        )
    return refused.message[:1].upper() + refused.message[1:]


def _answer_rows(answers: Answers, submission: ReferralSubmission) -> list[dict[str, Any]]:
    """Check your answers: each answer as the person gave it, and where to change it."""

    def yes_no(name: str) -> str:
        return {YES: "Yes", NO: "No"}.get(answers[name], "Not answered")

    day = answers["birth_date"]["day"]
    values: dict[str, str | list[str]] = {
        "nhs_number": nhs_number(submission.nhs_number),
        "given_name": submission.given_name,
        "family_name": submission.family_name,
        "birth_date": f"{int(day)} {submission.birth_date:%B %Y}" if day.isdigit() else "",
        "postcode": submission.postcode,
        "address": submission.address or "Not given",
        "phone": submission.phone or "Not given",
        "email": submission.email or "Not given",
        "preferred_contact": CONTACT_PREFERENCE.get(answers["preferred_contact"], "Not answered"),
        "contact_consent": yes_no("contact_consent"),
        "reason": submission.reason,
        "need_codes": [SOCIAL_PRESCRIBING_TERMS[code] for code in submission.need_codes],
        "consent_given": yes_no("consent_given"),
        "share_with_organisations": ORGANISATION_SHARING[submission.share_with_organisations],
        "outcome_to_gp": GP_OUTCOME_SHARING[submission.outcome_to_gp],
    }
    return [
        {"name": name, "key": LABELS[name], "value": values[name], "href": field_id(name)}
        for name in FIELD_ORDER
    ]


@router.get("/practice/referrals/{referral_id}/sent")
def referral_sent(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    role_or_404(access, PRACTICE)
    referral = access.visible_referral_or_404(referral_id)
    return render(request, "practice/sent.html", title="Referral sent", referral=referral)


# --- your referrals ---------------------------------------------------------------------


@router.get("/practice/referrals")
def your_referrals(
    request: Request,
    access: PageAccess,
    status_filter: ReferralStatus | None = Query(default=None, alias="status"),
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    role_or_404(access, PRACTICE)
    practice_ods = access.principal.organisation_id
    where = [col(Referral.practice_ods) == practice_ods]
    if status_filter is not None:
        where.append(col(Referral.status) == status_filter)
    total = access.session.exec(select(func.count()).select_from(Referral).where(*where)).one()
    found = access.session.exec(
        select(Referral, Person.given_name, Person.family_name, LinkWorker.name)
        .join(Person, col(Person.referral_id) == col(Referral.id))
        .outerjoin(LinkWorker, col(LinkWorker.id) == col(Referral.link_worker_id))
        .where(*where)
        .order_by(col(Referral.created_at).desc(), col(Referral.id))
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    access.log_all(referral.id for referral, *_ in found)
    pages = max(1, -(-total // PAGE_SIZE))
    query = f"status={status_filter.value}&" if status_filter else ""
    return render(
        request,
        "practice/referrals.html",
        title="Your referrals",
        rows=[
            {
                "id": referral.id,
                "created_at": referral.created_at,
                "person": f"{given} {family}",
                "link_worker": link_worker or "",
                "status": REFERRAL_STATUS[referral.status],
            }
            for referral, given, family, link_worker in found
        ],
        total=total,
        statuses=REFERRAL_STATUS,
        status_filter=status_filter.value if status_filter else "",
        page=page,
        pages=pages,
        page_url=lambda number: f"/practice/referrals?{query}page={number}",
    )


# --- one referral -----------------------------------------------------------------------


@router.get("/practice/referrals/{referral_id}")
def referral_page(
    request: Request,
    referral_id: UUID,
    access: PageAccess,
    settings: SettingsDep,
    done: str | None = None,
) -> Response:
    role_or_404(access, PRACTICE)
    # Another practice's referral answers 404, as GET /referrals/{id} does; the read is logged.
    detail = as_seen_by(access, read_referral(access, referral_id, settings.measures), None)
    referral = access.session.get(Referral, referral_id)
    link_worker = (
        access.session.get(LinkWorker, detail.link_worker_id) if detail.link_worker_id else None
    )
    access.session.commit()
    closed = detail.status == ReferralStatus.CLOSED
    codes = []
    if closed and detail.closure_reason is not None:
        accepted = any(entry.action == ProjectionAction.ASSESSED for entry in detail.timeline)
        closing = snomed_code_for_closure(detail.closure_reason, accepted)
        codes = [
            (code, SNOMED_DISPLAY[code])
            for code in dict.fromkeys([REFERRAL_TO_SOCIAL_PRESCRIBING, closing])
        ]
    person = detail.person
    return render(
        request,
        "practice/referral.html",
        title=f"Referral for {person.given_name} {person.family_name}",
        detail=detail,
        referral=referral,
        link_worker=link_worker,
        status=REFERRAL_STATUS[detail.status],
        closure=CLOSURE_REASON.get(detail.closure_reason) if detail.closure_reason else None,
        needs=[SOCIAL_PRESCRIBING_TERMS.get(code, code) for code in detail.need_codes],
        timeline=[timeline_entry(entry) for entry in reversed(detail.timeline)],
        outcome=detail.outcome,
        codes=codes,
        banner=DONE.get(done or ""),
    )


# --- cancel, and consent withdrawn ------------------------------------------------------

ACTIONS = {
    "cancel": {
        "title": "Are you sure you want to cancel this referral?",
        "explanation": "The link worker will stop working on it and any service the person "
        "was referred to will be told. This cannot be undone.",
        "button": "Yes, cancel this referral",
        "done": "cancelled",
    },
    "withdraw-consent": {
        "title": "Are you sure the person withdrew their consent?",
        "explanation": "The referral will be closed, and the link worker and any service "
        "the person was referred to will be told to stop. This cannot be undone.",
        "button": "Yes, record that consent was withdrawn",
        "done": "withdrawn",
    },
}


def _confirmation(
    request: Request,
    access: Access,
    referral_id: UUID,
    action: str,
    errors: dict[str, str] | None = None,
    note: str = "",
) -> Response:
    referral = access.visible_referral_or_404(referral_id)
    person = access.session.get(Person, referral_id)
    access.session.commit()
    return render(
        request,
        "practice/confirm.html",
        status_code=status.HTTP_409_CONFLICT
        if errors and "action-button" in errors
        else (422 if errors else 200),
        title=ACTIONS[action]["title"],
        action=action,
        words=ACTIONS[action],
        referral=referral,
        person=person,
        errors=errors or {},
        note=note,
    )


@router.get("/practice/referrals/{referral_id}/cancel")
def confirm_cancel(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    role_or_404(access, PRACTICE)
    return _confirmation(request, access, referral_id, "cancel")


@router.get("/practice/referrals/{referral_id}/withdraw-consent")
def confirm_withdrawal(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    role_or_404(access, PRACTICE)
    return _confirmation(request, access, referral_id, "withdraw-consent")


@router.post("/practice/referrals/{referral_id}/cancel")
async def cancel(
    request: Request, referral_id: UUID, access: PageAccess, temporal: TemporalDep
) -> Response:
    role_or_404(access, PRACTICE)
    try:
        await Steps(access, temporal).cancel(referral_id)
    except Refused as refused:
        return await _refused(request, access, referral_id, "cancel", refused)
    return _done(referral_id, "cancel")


@router.post("/practice/referrals/{referral_id}/withdraw-consent")
async def withdraw_consent(
    request: Request, referral_id: UUID, access: PageAccess, temporal: TemporalDep
) -> Response:
    role_or_404(access, PRACTICE)
    note = str((await request.form()).get("note", "")).strip()
    try:
        body = Note(note=note or None)
    except ValidationError:
        return await run_in_threadpool(
            _confirmation,
            request,
            access,
            referral_id,
            "withdraw-consent",
            {"note": f"The note must be {NOTE_LENGTH} characters or fewer"},
            note,
        )
    try:
        await Steps(access, temporal).withdraw_consent(referral_id, body)
    except Refused as refused:
        return await _refused(request, access, referral_id, "withdraw-consent", refused, note)
    return _done(referral_id, "withdraw-consent")


async def _refused(
    request: Request,
    access: Access,
    referral_id: UUID,
    action: str,
    refused: Refused,
    note: str = "",
) -> Response:
    if refused.status_code == status.HTTP_404_NOT_FOUND:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    message = refused.message[:1].upper() + refused.message[1:]
    return await run_in_threadpool(
        _confirmation, request, access, referral_id, action, {"action-button": message}, note
    )


def _done(referral_id: UUID, action: str) -> Response:
    done = ACTIONS[action]["done"]
    return RedirectResponse(
        f"/practice/referrals/{referral_id}?done={done}", status.HTTP_303_SEE_OTHER
    )
