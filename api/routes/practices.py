"""What GP practices do: refer a patient, and cancel a referral they made."""

from uuid import UUID

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from api.access import PRACTICE, AccessDep
from api.consent import state_for
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.idempotency import IdempotencyKey, StoredResponse, fingerprint, once
from api.intake import submit
from api.refusal import Refused, json_refusal
from api.schemas import ReferralConflict, ReferralCreated, ReferralSubmission
from api.steps import run_step
from domain.enums import ClosureReason, ReferralStatus, ReferralUpdate
from domain.messages import Closure, ReferralState

router = APIRouter(tags=["practices"])


@router.post(
    "/referrals",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralCreated,
    responses={
        403: {"description": "You may refer only for your own practice."},
        409: {"model": ReferralConflict, "description": "The person has an open referral."},
        503: {"description": "Nothing was saved; send it again."},
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
    async def work() -> StoredResponse:
        submitted = await submit(submission, access, session, settings, temporal)
        created = ReferralCreated(
            id=submitted.referral_id,
            workflow_id=submitted.workflow_id,
            status=ReferralStatus.RECEIVED,
        )
        return StoredResponse(201, created.model_dump(mode="json"), "application/json")

    request_hash = fingerprint("POST /referrals", submission)
    try:
        stored = await once(session, access.principal, idempotency_key, request_hash, work)
    except Refused as refused:
        return json_refusal(refused)
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.post(
    "/referrals/{referral_id}/cancel",
    response_model=ReferralState,
    summary="The referring practice cancels its referral",
)
async def cancel_referral(
    referral_id: UUID, session: SessionDep, temporal: TemporalDep, access: AccessDep
) -> ReferralState:
    await access.actionable_referral(referral_id, PRACTICE, to="cancel a referral")
    state = await run_step(
        temporal,
        session,
        referral_id,
        ReferralUpdate.CLOSE,
        Closure(actor=access.principal.actor, reason=ClosureReason.CANCELLED_BY_REFERRER),
    )
    return state_for(access, state)
