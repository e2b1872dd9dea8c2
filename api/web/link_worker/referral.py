"""The referral page, a link worker's working screen: the person, their needs, what has
happened, open tasks, notes, and only the steps the workflow would accept now."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import col, select

from api.access import LINK_WORKER_TEAM, Access
from api.steps import current_state
from api.web.link_worker.caseload import team_workers
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from api.web.words import (
    CLOSURE_REASON,
    CONTACT_METHOD,
    EVENT,
    LONDON,
    REFERRAL_STATUS,
    SERVICE_REFERRAL_STATUS,
    TASK_KIND,
    Tag,
    due_tag,
)
from catalogue.tables import Service
from catalogue.taxonomy import SOCIAL_PRESCRIBING_TERMS
from domain.enums import AssigneeKind, ProjectionAction, ServiceReferralStatus, TaskStatus
from domain.messages import ReferralState
from domain.tables import (
    AuditEvent,
    Person,
    Practice,
    Referral,
    ReferralNote,
    ServiceReferral,
    Task,
)
from workflows.rules import LegalStep, legal_steps, open_checkpoints

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The organisations' words are theirs ("waiting for your answer"); the link worker waits on them.
SERVICE_STATUS = SERVICE_REFERRAL_STATUS | {
    ServiceReferralStatus.PENDING: Tag("Waiting for the organisation's answer", "yellow")
}
TEAM_TASKS = (AssigneeKind.LINK_WORKER, AssigneeKind.TEAM_LEAD)
NOTE_KIND = {
    "contact_attempt": "Contact attempt",
    "goal": "Goal",
    "consent_withdrawn": "Consent withdrawn",
    "closure_declined": "Closed: declined",
    "closure_ineligible": "Closed: not eligible",
    "closure_no_suitable_service": "Closed: no suitable service",
}

# What the banner says after each step's form, named by ``?done=`` on the way back.
DONE = {
    "contact": "Contact attempt recorded",
    "conversation": "'What matters' conversation recorded",
    "connection": "Referral sent to the services you chose",
    "follow-up": "Follow-up recorded",
    "close": "Referral closed",
    "reassign": "Referral passed to your colleague",
    "consent-withdrawn": "Consent withdrawal recorded; the referral is closed",
    "contact-corrected": "Contact details corrected",
}


def referral_path(referral_id: UUID) -> str:
    return f"/caseload/referrals/{referral_id}"


def needs_in_words(codes: list[str]) -> list[str]:
    return [SOCIAL_PRESCRIBING_TERMS.get(code, code) for code in codes]


@dataclass
class ReferralView:
    referral: Referral
    person: Person
    link_worker: str
    practice: str
    colleagues: int
    """Active link workers of the team other than the one assigned: someone to pass it to."""
    tasks: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.person.given_name} {self.person.family_name}"


def person_of(access: Access, referral_id: UUID) -> tuple[Referral, Person]:
    """The referral and its person, if the caller's team covers it (else 404); logged."""
    referral = access.visible_referral_or_404(referral_id)
    person = access.session.get(Person, referral_id)
    assert person is not None, "every referral is written with its person"
    return referral, person


def load_referral(access: Access, referral_id: UUID) -> ReferralView:
    """Everything the page shows from the database, in a worker thread; the connection goes
    back to the pool before Temporal is asked where the referral stands."""
    session = access.session
    try:
        referral, person = person_of(access, referral_id)
        practice = session.get(Practice, referral.practice_ods)
        workers = {w.id: w.name for w in team_workers(session, access.principal.organisation_id)}
        now = datetime.now(LONDON)
        tasks = session.exec(
            select(Task)
            .where(Task.referral_id == referral_id, Task.status == TaskStatus.OPEN)
            # The organisation's own tasks (accept, confirm the start) show as the services'
            # status instead.
            .where(col(Task.assignee_kind).in_(TEAM_TASKS))
            .order_by(col(Task.due_at).is_(None), col(Task.due_at), col(Task.id))
        ).all()
        # Only notes a step carried: a note without a step_key belongs to a step the
        # workflow refused or has not applied yet.
        notes = session.exec(
            select(ReferralNote)
            .where(ReferralNote.referral_id == referral_id)
            .where(col(ReferralNote.step_key).is_not(None))
            .order_by(col(ReferralNote.created_at).desc(), col(ReferralNote.id).desc())
        ).all()
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.referral_id == referral_id)
            .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        ).all()
        service_referrals = session.exec(
            select(ServiceReferral, Service.name)
            .outerjoin(Service, col(Service.id) == col(ServiceReferral.service_id))
            .where(ServiceReferral.referral_id == referral_id)
            .order_by(col(ServiceReferral.sent_at))
        ).all()
        return ReferralView(
            referral=referral,
            person=person,
            link_worker=workers.get(referral.link_worker_id or "", "Not assigned"),
            practice=practice.name if practice else referral.practice_ods,
            colleagues=len(workers.keys() - {referral.link_worker_id}),
            tasks=[
                {
                    "what": TASK_KIND[task.kind],
                    "due": task.due_at,
                    "tag": due_tag(task.due_at, now, now.date()),
                    "who": "you"
                    if task.assignee_id == access.principal.link_worker_id
                    else workers.get(task.assignee_id),
                }
                for task in tasks
            ],
            notes=[
                {"kind": NOTE_KIND.get(note.kind, "Note"), "text": note.text, "at": note.created_at}
                for note in notes
            ],
            timeline=[{"at": e.at, "text": _event_in_words(e)} for e in events],
            services=[
                {
                    "name": name or sr.service_id,
                    "status": SERVICE_STATUS[sr.status],
                    "sent": sr.sent_at,
                }
                for sr, name in service_referrals
            ],
        )
    finally:
        session.commit()


def _event_in_words(event: AuditEvent) -> str:
    """One line of the timeline, from the codes the step's audit entry keeps."""
    try:
        action = ProjectionAction(event.action)
    except ValueError:
        return event.action.replace("_", " ").capitalize()
    text = EVENT[action]
    detail = event.detail or {}
    if action is ProjectionAction.CONTACT_ATTEMPTED and detail.get("method") in CONTACT_METHOD:
        reached = "reached" if detail.get("reached") else "not reached"
        text = f"{text}: {CONTACT_METHOD[detail['method']].lower()}, {reached}"
    elif action is ProjectionAction.CLOSED and detail.get("closure_reason") in CLOSURE_REASON:
        text = f"{text}: {CLOSURE_REASON[detail['closure_reason']].lower()}"
    elif isinstance(detail.get("checkpoint"), int):
        text = f"{text} ({_ordinal(detail['checkpoint'])} follow-up)"
    return text


def _ordinal(number: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(number, f"number {number}")


def main_steps(
    legal: set[LegalStep], checkpoints: list[int], referral_id: UUID
) -> list[tuple[str, str]]:
    """(button text, form address) of the steps that move the referral on, legal now."""
    path = referral_path(referral_id)
    steps = [
        (text, f"{path}/{form}")
        for step, text, form in (
            (LegalStep.CONTACT_ATTEMPT, "Record a contact attempt", "contact"),
            (LegalStep.ASSESSMENT, "Record the 'what matters' conversation", "conversation"),
            (LegalStep.CONNECTION, "Connect to services", "connect"),
        )
        if step in legal
    ]
    if LegalStep.FOLLOW_UP in legal:
        steps += [(f"Record follow-up {n}", f"{path}/follow-up/{n}") for n in checkpoints]
    return steps


def other_steps(legal: set[LegalStep], referral_id: UUID) -> list[tuple[str, str]]:
    """(link text, form address) of closing, passing on and consent withdrawn, legal now."""
    path = referral_path(referral_id)
    closures = {
        LegalStep.CLOSE_DECLINED,
        LegalStep.CLOSE_INELIGIBLE,
        LegalStep.CLOSE_NO_SUITABLE_SERVICE,
    }
    steps = [("Close the referral", f"{path}/close")] if legal & closures else []
    if LegalStep.REASSIGN in legal:
        steps.append(("Pass to another link worker", f"{path}/reassign"))
    if LegalStep.WITHDRAW_CONSENT in legal:
        steps.append(("Record that the person withdrew consent", f"{path}/consent-withdrawn"))
    return steps


async def state_of(request: Request, referral_id: UUID) -> ReferralState | None:
    """Where the workflow is now, or None when Temporal cannot be asked."""
    temporal = request.app.state.temporal
    return await current_state(temporal, referral_id) if temporal is not None else None


@router.get("/caseload/referrals/{referral_id}")
async def referral_page(
    request: Request, referral_id: UUID, access: PageAccess, done: str = ""
) -> Response:
    role_or_404(access, LINK_WORKER_TEAM)
    view = await run_in_threadpool(load_referral, access, referral_id)
    state = await state_of(request, referral_id)
    now = datetime.now(UTC)
    legal = legal_steps(state, access.principal.actor, now) if state else set()
    if not view.colleagues:
        legal.discard(LegalStep.REASSIGN)
    checkpoints = open_checkpoints(state, access.principal.actor, now) if state else []
    return render(
        request,
        "link_worker/referral.html",
        title=f"Referral for {view.name}",
        view=view,
        referral=view.referral,
        person=view.person,
        needs=needs_in_words(
            state.need_codes if state and state.need_codes else view.referral.need_codes
        ),
        status=REFERRAL_STATUS[state.status if state else view.referral.status],
        closure=CLOSURE_REASON.get(view.referral.closure_reason)
        if view.referral.closure_reason
        else None,
        state_known=state is not None,
        main_steps=main_steps(legal, checkpoints, referral_id),
        other_steps=other_steps(legal, referral_id),
        path=referral_path(referral_id),
        banner=DONE.get(done),
    )
