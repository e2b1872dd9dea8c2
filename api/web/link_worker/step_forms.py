"""A form per step of a referral, each posting to the step service (``api.steps.Steps``).

A form shows the person's name and a back link; a POST that the step service refuses shows
the form again with the reason in the error summary (a 409 from the workflow: "not possible
now", a 422: the field at fault), and a step done goes back to the referral page with a
banner. GET forms read only the database, so they are plain ``def``; a POST awaits the
workflow, so it is ``async`` and reads the database in a worker thread.
"""

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlmodel import col, select
from starlette.datastructures import FormData

from activities.report_facts import BASELINE
from api.access import LINK_WORKER_TEAM, Access
from api.errors import Refused
from api.schemas import (
    NOTE_LENGTH,
    AssessmentIn,
    ConnectionIn,
    ContactAttemptIn,
    FollowUpIn,
    LinkWorkerClosureIn,
    Note,
    ReassignmentIn,
)
from api.steps import Steps
from api.web.link_worker.caseload import team_workers
from api.web.link_worker.measure_forms import FORMS, read_measures
from api.web.link_worker.referral import needs_in_words, person_of, referral_path
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from api.web.words import CONTACT_METHOD
from catalogue.referral_match import suggest_for_referral
from catalogue.search import PageRequest, ServiceFilter, services_page
from catalogue.taxonomy import SOCIAL_PRESCRIBING_TERMS
from domain.enums import ClosureReason, ContactMethod
from domain.tables import OutcomeRecord, Referral

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STEP_FORM = "step-form"
"""The id of every step's form: where an error without a field of its own links to."""
GOALS = 3
SEARCH_RESULTS = 10
MAX_SERVICES = 10

CLOSURES = [
    (
        ClosureReason.DECLINED,
        "The person does not want social prescribing",
        "They said no, or do not want to go on. You can close at any time before they are "
        "referred to a service.",
    ),
    (
        ClosureReason.INELIGIBLE,
        "The person is not eligible",
        "Social prescribing is not right for them, for example they need urgent clinical care "
        "instead. Possible until after the 'what matters' conversation.",
    ),
    (
        ClosureReason.NO_SUITABLE_SERVICE,
        "There is no suitable service",
        "You talked about what matters and nothing in the directory meets their needs.",
    ),
]

Show = Callable[[dict[str, str], int], Response]
# What a form shows beyond its fields' values, read once the caller is known to cover the
# referral: (request, access, referral, posted form or None for a fresh one) -> template data.
More = Callable[[Request, Access, Referral, FormData | None], dict[str, Any]]


class StepPage(NamedTuple):
    template: str
    title: str
    more: More | None = None


def _steps(request: Request, access: Access) -> Steps:
    temporal = request.app.state.temporal
    if temporal is None:
        raise Refused(status.HTTP_503_SERVICE_UNAVAILABLE, "The workflow service is not connected.")
    return Steps(access, temporal)


async def _perform(
    request: Request,
    access: Access,
    referral_id: UUID,
    step: Callable[[Steps], Awaitable[object]],
    done: str,
    show: Show,
) -> Response:
    """Take the step, then back to the referral with a banner; refused, the form again with
    the reason. Someone else's referral is a 404 page, as in the JSON API."""
    try:
        await step(_steps(request, access))
    except Refused as refusal:
        if refusal.status_code in (status.HTTP_403_FORBIDDEN, status.HTTP_404_NOT_FOUND):
            raise HTTPException(refusal.status_code, refusal.message) from None
        field = (refusal.field or STEP_FORM).split(".")[0]
        return await run_in_threadpool(show, {field: refusal.message}, refusal.status_code)
    return RedirectResponse(
        f"{referral_path(referral_id)}?done={done}", status_code=status.HTTP_303_SEE_OTHER
    )


def _show(
    request: Request,
    access: Access,
    referral_id: UUID,
    step: StepPage,
    form: FormData | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    """A step's form for this referral, fresh or as posted with its errors."""
    role_or_404(access, LINK_WORKER_TEAM)
    try:
        # The access check (and its log) before anything else of the referral is read.
        referral, person = person_of(access, referral_id)
        data = step.more(request, access, referral, form) if step.more else {}
    finally:
        access.session.commit()  # the connection goes back to the pool
    return render(
        request,
        step.template,
        status_code=status_code,
        title=f"{step.title}: {person.given_name} {person.family_name}",
        heading=step.title,
        name=f"{person.given_name} {person.family_name}",
        referral=referral,
        path=referral_path(referral_id),
        errors=errors or {},
        step_form=STEP_FORM,
        values=_values(form),
        **data,
    )


async def _posted(
    request: Request, access: Access, referral_id: UUID, step: StepPage
) -> tuple[FormData, Show]:
    """The posted form, and how to show it again with errors (in a worker thread)."""
    role_or_404(access, LINK_WORKER_TEAM)
    form = await request.form()

    def show(errors: dict[str, str], status_code: int) -> Response:
        return _show(request, access, referral_id, step, form, errors, status_code)

    return form, show


async def _invalid(show: Show, errors: dict[str, str]) -> Response:
    return await run_in_threadpool(show, errors, status.HTTP_400_BAD_REQUEST)


def _values(form: FormData | None) -> dict[str, str]:
    return {key: value for key, value in (form or {}).items() if isinstance(value, str)}


def _texts(form: FormData, name: str) -> list[str]:
    return [
        value.strip() for value in form.getlist(name) if isinstance(value, str) and value.strip()
    ]


def _note(form: FormData) -> str | None:
    text = form.get("note")
    return text.strip() or None if isinstance(text, str) else None


def _note_error(note: str | None) -> dict[str, str]:
    if note and len(note) > NOTE_LENGTH:
        return {"note": f"Note must be {NOTE_LENGTH} characters or fewer"}
    return {}


# --- contact attempt ---------------------------------------------------------------------

CONTACT = StepPage(
    "link_worker/contact.html",
    "Record a contact attempt",
    lambda *_: {"methods": [(method.value, words) for method, words in CONTACT_METHOD.items()]},
)


@router.get("/caseload/referrals/{referral_id}/contact")
def contact_form(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    return _show(request, access, referral_id, CONTACT)


@router.post("/caseload/referrals/{referral_id}/contact")
async def record_contact(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    form, show = await _posted(request, access, referral_id, CONTACT)
    method, reached, note = form.get("method"), form.get("reached"), _note(form)
    errors: dict[str, str] = {}
    if method not in set(ContactMethod):
        errors["method"] = "Choose how you tried to contact the person"
    if reached not in ("yes", "no"):
        errors["reached"] = "Choose yes if you spoke with the person"
    errors |= _note_error(note)
    if errors:
        return await _invalid(show, errors)
    attempt = ContactAttemptIn(
        method=ContactMethod(str(method)), reached=reached == "yes", note=note
    )
    return await _perform(
        request,
        access,
        referral_id,
        lambda steps: steps.record_contact_attempt(referral_id, attempt),
        "contact",
        show,
    )


# --- the 'what matters' conversation -----------------------------------------------------


def _conversation_data(
    _: Request, __: Access, referral: Referral, form: FormData | None
) -> dict[str, Any]:
    return {
        # A fresh form ticks the needs the practice gave.
        "chosen_needs": _texts(form, "need_codes") if form is not None else referral.need_codes,
        "goals": (_texts(form, "goals") if form is not None else []) + [""] * GOALS,
        "goal_count": GOALS,
        "needs": list(SOCIAL_PRESCRIBING_TERMS.items()),
        "instruments": FORMS,
    }


CONVERSATION = StepPage(
    "link_worker/conversation.html", "Record the 'what matters' conversation", _conversation_data
)


@router.get("/caseload/referrals/{referral_id}/conversation")
def conversation_form(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    return _show(request, access, referral_id, CONVERSATION)


@router.post("/caseload/referrals/{referral_id}/conversation")
async def record_conversation(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    form, show = await _posted(request, access, referral_id, CONVERSATION)
    needs = [code for code in _texts(form, "need_codes") if code in SOCIAL_PRESCRIBING_TERMS]
    goals = _texts(form, "goals")
    errors: dict[str, str] = {}
    if not needs:
        errors["need_codes"] = "Choose at least one thing the person needs help with"
    for number, goal in enumerate(goals, start=1):
        if len(goal) > NOTE_LENGTH:
            errors[f"goal-{number}"] = f"Goal {number} must be {NOTE_LENGTH} characters or fewer"
    measures, measure_errors = read_measures(_values(form))
    errors |= measure_errors
    if errors:
        return await _invalid(show, errors)
    assessment = AssessmentIn(need_codes=needs, goals=goals, baseline=measures)
    return await _perform(
        request,
        access,
        referral_id,
        lambda steps: steps.record_assessment(referral_id, assessment),
        "conversation",
        show,
    )


# --- connecting the person to services ---------------------------------------------------


def _search_of(request: Request, form: FormData | None) -> str:
    search = form.get("search") if form is not None else request.query_params.get("search")
    return search.strip()[:200] if isinstance(search, str) else ""


def _connection_data(
    request: Request, access: Access, referral: Referral, form: FormData | None
) -> dict[str, Any]:
    session = access.session
    search = _search_of(request, form)
    return {
        "match": suggest_for_referral(session, referral.id, geocoder=request.app.state.geocoder),
        "found": services_page(
            session, ServiceFilter(search=search), PageRequest(1, SEARCH_RESULTS)
        )
        if search
        else None,
        "search": search,
        "chosen": _texts(form, "service_ids") if form is not None else [],
        "needs_in_words": needs_in_words,
    }


CONNECTION = StepPage(
    "link_worker/connect.html", "Connect the person to services", _connection_data
)


@router.get("/caseload/referrals/{referral_id}/connect")
def connection_form(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    return _show(request, access, referral_id, CONNECTION)


@router.post("/caseload/referrals/{referral_id}/connect")
async def connect(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    form, show = await _posted(request, access, referral_id, CONNECTION)
    chosen = list(dict.fromkeys(_texts(form, "service_ids")))
    if not chosen:
        return await _invalid(show, {"service_ids": "Choose at least one service"})
    if len(chosen) > MAX_SERVICES:
        return await _invalid(show, {"service_ids": f"Choose {MAX_SERVICES} services or fewer"})
    connection = ConnectionIn(service_ids=chosen)
    return await _perform(
        request,
        access,
        referral_id,
        lambda steps: steps.connect_services(referral_id, connection),
        "connection",
        show,
    )


# --- follow-up ----------------------------------------------------------------------------


def _follow_up_data(
    request: Request, access: Access, referral: Referral, _: FormData | None
) -> dict[str, Any]:
    records = access.session.exec(
        select(OutcomeRecord)
        .where(OutcomeRecord.referral_id == referral.id)
        .where(OutcomeRecord.checkpoint == BASELINE)
        .where(col(OutcomeRecord.missed).is_(False))
    ).all()
    return {
        "checkpoint": request.path_params["checkpoint"],
        "instruments": FORMS,
        "baseline": {record.instrument: record.answers for record in records},
    }


def _follow_up_page(checkpoint: int) -> StepPage:
    return StepPage("link_worker/follow_up.html", f"Record follow-up {checkpoint}", _follow_up_data)


@router.get("/caseload/referrals/{referral_id}/follow-up/{checkpoint}")
def follow_up_form(
    request: Request, referral_id: UUID, checkpoint: int, access: PageAccess
) -> Response:
    return _show(request, access, referral_id, _follow_up_page(checkpoint))


@router.post("/caseload/referrals/{referral_id}/follow-up/{checkpoint}")
async def record_follow_up(
    request: Request, referral_id: UUID, checkpoint: int, access: PageAccess
) -> Response:
    form, show = await _posted(request, access, referral_id, _follow_up_page(checkpoint))
    measures, errors = read_measures(_values(form))
    if not measures and not errors:
        errors = {FORMS[0].items[0].id: "Answer at least one questionnaire in full"}
    if errors:
        return await _invalid(show, errors)
    follow_up = FollowUpIn(measures=measures)
    return await _perform(
        request,
        access,
        referral_id,
        lambda steps: steps.record_follow_up(referral_id, checkpoint, follow_up),
        "follow-up",
        show,
    )


# --- closing early ------------------------------------------------------------------------

CLOSE = StepPage("link_worker/close.html", "Close the referral", lambda *_: {"reasons": CLOSURES})


@router.get("/caseload/referrals/{referral_id}/close")
def close_form(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    return _show(request, access, referral_id, CLOSE)


@router.post("/caseload/referrals/{referral_id}/close")
async def close(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    form, show = await _posted(request, access, referral_id, CLOSE)
    reason, note = form.get("reason"), _note(form)
    errors: dict[str, str] = {}
    if reason not in {code.value for code, _, _ in CLOSURES}:
        errors["reason"] = "Choose why you are closing the referral"
    errors |= _note_error(note)
    if errors:
        return await _invalid(show, errors)
    closure = LinkWorkerClosureIn.model_validate({"reason": reason, "note": note})
    return await _perform(
        request,
        access,
        referral_id,
        lambda steps: steps.close(referral_id, closure),
        "close",
        show,
    )


# --- passing to a colleague ----------------------------------------------------------------


def _colleagues(
    _: Request, access: Access, referral: Referral, __: FormData | None
) -> dict[str, Any]:
    workers = team_workers(access.session, access.principal.organisation_id)
    return {
        "colleagues": [w for w in workers if w.id != referral.link_worker_id],
        "current": next((w.name for w in workers if w.id == referral.link_worker_id), None),
        "me": access.principal.link_worker_id,
    }


REASSIGN = StepPage("link_worker/reassign.html", "Pass to another link worker", _colleagues)


@router.get("/caseload/referrals/{referral_id}/reassign")
def reassign_form(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    return _show(request, access, referral_id, REASSIGN)


@router.post("/caseload/referrals/{referral_id}/reassign")
async def reassign(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    form, show = await _posted(request, access, referral_id, REASSIGN)
    chosen = form.get("link_worker_id")
    if not isinstance(chosen, str) or not chosen.strip():
        return await _invalid(show, {"link_worker_id": "Choose who to pass the referral to"})
    reassignment = ReassignmentIn(link_worker_id=chosen.strip())
    return await _perform(
        request,
        access,
        referral_id,
        lambda steps: steps.reassign(referral_id, reassignment),
        "reassign",
        show,
    )


# --- consent withdrawn ----------------------------------------------------------------------

WITHDRAWAL = StepPage("link_worker/consent_withdrawn.html", "Record that consent was withdrawn")


@router.get("/caseload/referrals/{referral_id}/consent-withdrawn")
def withdrawal_form(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    return _show(request, access, referral_id, WITHDRAWAL)


@router.post("/caseload/referrals/{referral_id}/consent-withdrawn")
async def withdraw_consent(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    form, show = await _posted(request, access, referral_id, WITHDRAWAL)
    note = _note(form)
    if errors := _note_error(note):
        return await _invalid(show, errors)
    return await _perform(
        request,
        access,
        referral_id,
        lambda steps: steps.withdraw_consent(referral_id, Note(note=note)),
        "consent-withdrawn",
        show,
    )
