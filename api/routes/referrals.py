"""``/referrals``: refer, read, cancel, every step of a referral, and suggested services.

Each step is one line into the step service (``api.steps``), which web pages call too.
"""

from functools import partial
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.access import LINK_WORKER_TEAM, AccessDep
from api.deps import GeocoderDep, SessionDep, SettingsDep, TemporalDep
from api.errors import ACTIONABLE, SIGNED_IN, STEP, VISIBLE, Refused, json_refusal, problem
from api.idempotency import IdempotencyKey, StoredResponse, fingerprint, once
from api.intake import submit
from api.referral_detail import as_seen_by, read_referral
from api.schemas import (
    AssessmentIn,
    ConnectionIn,
    ContactAttemptIn,
    FollowUpIn,
    LinkWorkerClosureIn,
    Note,
    ReassignmentIn,
    ReferralConflict,
    ReferralCreated,
    ReferralDetail,
    ReferralProgress,
    ReferralSubmission,
)
from api.steps import StepsDep, current_state
from catalogue.matching import MatchResult
from catalogue.referral_match import suggest_for_referral
from domain.enums import ReferralStatus

router = APIRouter(prefix="/referrals", tags=["referrals"])

# More checkpoints than any policy sets: a larger number is a mistake, not a 409.
MAX_CHECKPOINT = 100
Checkpoint = Annotated[
    int, Path(ge=1, le=MAX_CHECKPOINT, description="1 at ~3 months, 2 at ~4 months.")
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralCreated,
    responses={
        **SIGNED_IN,
        403: problem("You may refer only for your own practice."),
        409: problem("The person has an open referral.", ReferralConflict),
        503: problem("Nothing was saved; send it again."),
    },
    summary="Refer a patient to social prescribing",
)
async def submit_referral(
    submission: ReferralSubmission,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    access: AccessDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def work(referral_id: UUID) -> StoredResponse:
        submitted = await submit(submission, access, session, settings, temporal, referral_id)
        created = ReferralCreated(
            id=submitted.referral_id,
            workflow_id=submitted.workflow_id,
            status=ReferralStatus.RECEIVED,
        )
        return StoredResponse(201, created.model_dump(mode="json"), "application/json")

    request_hash = fingerprint("POST /referrals", submission)
    try:
        stored = await once(
            session, access.principal, idempotency_key, request_hash, settings.idempotency, work
        )
    except Refused as refused:
        return json_refusal(refused)
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.get(
    "/{referral_id}",
    response_model=ReferralDetail,
    responses=VISIBLE,
    summary="A referral with its tasks, service referrals and timeline",
)
async def get_referral(
    referral_id: UUID, temporal: TemporalDep, access: AccessDep, settings: SettingsDep
) -> ReferralDetail:
    detail = await run_in_threadpool(read_referral, access, referral_id, settings.measures)
    state = await current_state(temporal, referral_id)
    return await run_in_threadpool(as_seen_by, access, detail, state)


@router.get(
    "/{referral_id}/suggestions",
    response_model=MatchResult,
    responses={**ACTIONABLE, 409: problem("No needs are recorded yet.")},
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
        raise Refused(
            status.HTTP_409_CONFLICT,
            "No needs are recorded for this referral yet; record the 'what matters' "
            "conversation first.",
        )
    return result


# --- steps: each one line into the step service ------------------------------------------

step = partial(router.post, response_model=ReferralProgress, responses=STEP)


@step("/{referral_id}/cancel", summary="The referring practice cancels its referral")
async def cancel_referral(referral_id: UUID, steps: StepsDep) -> ReferralProgress:
    return await steps.cancel(referral_id)


@step("/{referral_id}/contact-attempts", summary="Record an attempt to contact the person")
async def record_contact_attempt(
    referral_id: UUID, attempt: ContactAttemptIn, steps: StepsDep
) -> ReferralProgress:
    return await steps.record_contact_attempt(referral_id, attempt)


@step(
    "/{referral_id}/assessment",
    summary="Record the 'what matters' conversation: needs, goals and baseline measures",
)
async def record_assessment(
    referral_id: UUID, assessment: AssessmentIn, steps: StepsDep
) -> ReferralProgress:
    return await steps.record_assessment(referral_id, assessment)


@step("/{referral_id}/connections", summary="Send the referral to one or more community services")
async def connect_services(
    referral_id: UUID, connection: ConnectionIn, steps: StepsDep
) -> ReferralProgress:
    return await steps.connect_services(referral_id, connection)


@step(
    "/{referral_id}/follow-ups/{checkpoint}",
    summary="Record the measures at a follow-up checkpoint (1 at ~3 months, 2 at ~4 months)",
)
async def record_follow_up(
    referral_id: UUID, checkpoint: Checkpoint, follow_up: FollowUpIn, steps: StepsDep
) -> ReferralProgress:
    return await steps.record_follow_up(referral_id, checkpoint, follow_up)


@step(
    "/{referral_id}/close",
    summary="Close early: the person declined, is ineligible, or no suitable service exists",
)
async def close_referral(
    referral_id: UUID, closure: LinkWorkerClosureIn, steps: StepsDep
) -> ReferralProgress:
    return await steps.close(referral_id, closure)


@step(
    "/{referral_id}/withdraw-consent",
    summary="The person withdrew consent: stop everything and tell everyone involved",
)
async def withdraw_consent(referral_id: UUID, body: Note, steps: StepsDep) -> ReferralProgress:
    return await steps.withdraw_consent(referral_id, body)


@step(
    "/{referral_id}/reassign", summary="Hand the referral to another link worker of the same team"
)
async def reassign(
    referral_id: UUID, reassignment: ReassignmentIn, steps: StepsDep
) -> ReferralProgress:
    return await steps.reassign(referral_id, reassignment)
