"""What link workers do: work their task list and record each step of a referral."""

from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, status
from sqlmodel import Session, col, select

from api.access import LINK_WORKER_TEAM, PRACTICE, AccessDep
from api.consent import state_for
from api.deps import SessionDep, TemporalDep
from api.errors import invalid
from api.routes.catalogue import GeocoderDep
from api.schemas import (
    AssessmentIn,
    ConnectionIn,
    ContactAttemptIn,
    FollowUpIn,
    LinkWorkerClosureIn,
    Note,
    ReassignmentIn,
    TaskOut,
)
from api.steps import run_step
from catalogue.lookup import active_service
from catalogue.matching import MatchResult
from catalogue.referral_match import suggest_for_referral
from domain.enums import AssigneeKind, ClosureReason, ReferralUpdate, TaskStatus
from domain.messages import (
    Assessment,
    Closure,
    Connection,
    ContactAttempt,
    FollowUpRecord,
    Reassignment,
    ReferralState,
    ServiceChoice,
)
from domain.tables import LinkWorker, Practice, ReferralNote, Task

router = APIRouter(tags=["link workers"])


@router.get(
    "/link-workers/{link_worker_id}/tasks",
    response_model=list[TaskOut],
    summary="A link worker's tasks, soonest due first",
)
def list_tasks(
    link_worker_id: str,
    session: SessionDep,
    access: AccessDep,
    task_status: TaskStatus = Query(default=TaskStatus.OPEN, alias="status"),
) -> list[TaskOut]:
    worker = access.team_link_worker_or_404(link_worker_id)
    kinds = [AssigneeKind.LINK_WORKER] + ([AssigneeKind.TEAM_LEAD] if worker.is_team_lead else [])
    tasks = session.exec(
        select(Task)
        .where(Task.assignee_id == link_worker_id)
        .where(col(Task.assignee_kind).in_(kinds))
        .where(Task.status == task_status)
        .order_by(col(Task.due_at).is_(None), col(Task.due_at), col(Task.id))
    ).all()
    access.log_all(task.referral_id for task in tasks)
    return [TaskOut.model_validate(task, from_attributes=True) for task in tasks]


def _keep_note(
    session: Session, referral_id: UUID, kind: str, text: str | None, author: str
) -> None:
    # Written after the workflow accepted the step, so a rejected step leaves no note behind.
    if text:
        session.add(ReferralNote(referral_id=referral_id, kind=kind, text=text, author_id=author))
        session.commit()


@router.post(
    "/referrals/{referral_id}/contact-attempts",
    response_model=ReferralState,
    summary="Record an attempt to contact the person",
)
async def record_contact_attempt(
    referral_id: UUID,
    attempt: ContactAttemptIn,
    session: SessionDep,
    temporal: TemporalDep,
    access: AccessDep,
) -> ReferralState:
    await access.actionable_referral(referral_id, LINK_WORKER_TEAM, to="record a contact attempt")
    actor = access.principal.actor
    state = await run_step(
        temporal,
        session,
        referral_id,
        ReferralUpdate.RECORD_CONTACT_ATTEMPT,
        ContactAttempt(actor=actor, method=attempt.method, reached=attempt.reached),
    )
    _keep_note(session, referral_id, "contact_attempt", attempt.note, actor.id)
    return state


@router.post(
    "/referrals/{referral_id}/assessment",
    response_model=ReferralState,
    summary="Record the 'what matters' conversation: needs, goals and baseline measures",
)
async def record_assessment(
    referral_id: UUID,
    assessment: AssessmentIn,
    session: SessionDep,
    temporal: TemporalDep,
    access: AccessDep,
) -> ReferralState:
    await access.actionable_referral(
        referral_id, LINK_WORKER_TEAM, to="record the 'what matters' conversation"
    )
    actor = access.principal.actor
    state = await run_step(
        temporal,
        session,
        referral_id,
        ReferralUpdate.RECORD_ASSESSMENT,
        Assessment(actor=actor, need_codes=assessment.need_codes, baseline=assessment.baseline),
    )
    for goal in assessment.goals:
        _keep_note(session, referral_id, "goal", goal, actor.id)
    return state


@router.get(
    "/referrals/{referral_id}/suggestions",
    response_model=MatchResult,
    summary="Services that meet the person's needs, ranked and explained",
)
def suggest_services(
    referral_id: UUID,
    session: SessionDep,
    geocoder: GeocoderDep,
    access: AccessDep,
    limit: int = Query(default=10, ge=1, le=50),
) -> MatchResult:
    access.actionable_referral_or_404(referral_id, LINK_WORKER_TEAM, to="see suggestions")
    result = suggest_for_referral(session, referral_id, geocoder=geocoder, limit=limit)
    if result is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "No needs are recorded for this referral yet; record the 'what matters' "
            "conversation first.",
        )
    return result


@router.post(
    "/referrals/{referral_id}/connections",
    response_model=ReferralState,
    summary="Send the referral to one or more community services",
)
async def connect_services(
    referral_id: UUID,
    connection: ConnectionIn,
    session: SessionDep,
    temporal: TemporalDep,
    access: AccessDep,
) -> ReferralState:
    await access.actionable_referral(
        referral_id, LINK_WORKER_TEAM, to="connect the person to services"
    )
    actor = access.principal.actor
    choices = []
    # Any active service may be chosen, suggested or not: the link worker knows the person.
    for position, service_id in enumerate(connection.service_ids):
        service = active_service(session, service_id)
        if service is None:
            invalid(
                ("body", "service_ids", position),
                f"{service_id} is not an active service in the directory",
            )
        choices.append(
            ServiceChoice(service_id=service.service_id, organisation_id=service.organization_id)
        )
    return await run_step(
        temporal,
        session,
        referral_id,
        ReferralUpdate.CONNECT_SERVICES,
        Connection(actor=actor, choices=choices),
    )


@router.post(
    "/referrals/{referral_id}/follow-ups/{checkpoint}",
    response_model=ReferralState,
    summary="Record the measures at a follow-up checkpoint (1 at ~3 months, 2 at ~4 months)",
)
async def record_follow_up(
    referral_id: UUID,
    checkpoint: int,
    follow_up: FollowUpIn,
    session: SessionDep,
    temporal: TemporalDep,
    access: AccessDep,
) -> ReferralState:
    await access.actionable_referral(referral_id, LINK_WORKER_TEAM, to="record a follow-up")
    actor = access.principal.actor
    return await run_step(
        temporal,
        session,
        referral_id,
        ReferralUpdate.RECORD_FOLLOW_UP,
        FollowUpRecord(actor=actor, checkpoint=checkpoint, measures=follow_up.measures),
    )


@router.post(
    "/referrals/{referral_id}/close",
    response_model=ReferralState,
    summary="Close early: the person declined, is ineligible, or no suitable service exists",
)
async def close_referral(
    referral_id: UUID,
    closure: LinkWorkerClosureIn,
    session: SessionDep,
    temporal: TemporalDep,
    access: AccessDep,
) -> ReferralState:
    await access.actionable_referral(referral_id, LINK_WORKER_TEAM, to="close a referral")
    actor = access.principal.actor
    state = await run_step(
        temporal,
        session,
        referral_id,
        ReferralUpdate.CLOSE,
        Closure(actor=actor, reason=closure.reason),
    )
    _keep_note(session, referral_id, f"closure_{closure.reason.value}", closure.note, actor.id)
    return state


@router.post(
    "/referrals/{referral_id}/withdraw-consent",
    response_model=ReferralState,
    summary="The person withdrew consent: stop everything and tell everyone involved",
)
async def withdraw_consent(
    referral_id: UUID,
    body: Note,
    session: SessionDep,
    temporal: TemporalDep,
    access: AccessDep,
) -> ReferralState:
    await access.actionable_referral(
        referral_id, PRACTICE, LINK_WORKER_TEAM, to="record that consent was withdrawn"
    )
    actor = access.principal.actor
    state = await run_step(
        temporal,
        session,
        referral_id,
        ReferralUpdate.CLOSE,
        Closure(actor=actor, reason=ClosureReason.CONSENT_WITHDRAWN),
    )
    _keep_note(session, referral_id, "consent_withdrawn", body.note, actor.id)
    # The practice may record it too, and sees what its patient's consent allows.
    return state_for(access, state)


@router.post(
    "/referrals/{referral_id}/reassign",
    response_model=ReferralState,
    summary="Hand the referral to another link worker of the same team",
)
async def reassign(
    referral_id: UUID,
    reassignment: ReassignmentIn,
    session: SessionDep,
    temporal: TemporalDep,
    access: AccessDep,
) -> ReferralState:
    referral = await access.actionable_referral(
        referral_id, LINK_WORKER_TEAM, to="reassign a referral"
    )
    actor = access.principal.actor
    practice = session.get(Practice, referral.practice_ods)
    worker = session.get(LinkWorker, reassignment.link_worker_id)
    if (
        worker is None
        or practice is None
        or worker.team_id != practice.team_id
        or not worker.active
    ):
        invalid(
            ("body", "link_worker_id"),
            f"{reassignment.link_worker_id} is not an active link worker of the team that "
            "covers this practice",
        )
    return await run_step(
        temporal,
        session,
        referral_id,
        ReferralUpdate.REASSIGN,
        Reassignment(actor=actor, link_worker_id=worker.id),
    )
