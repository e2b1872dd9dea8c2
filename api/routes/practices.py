"""What GP practices do: refer a patient, and cancel a referral they made."""

import logging
from uuid import UUID, uuid4

from fastapi import APIRouter, HTTPException, status
from sqlmodel import Session, col, delete
from temporalio.service import RPCError

from api.access import PRACTICE, AccessDep, forbidden
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.schemas import ReferralCreated, ReferralSubmission
from api.steps import run_step
from domain.enums import REFERRAL_WORKFLOW, ClosureReason, ReferralStatus, ReferralUpdate
from domain.messages import Closure, ReferralInput, ReferralState, workflow_id_for
from domain.tables import Person, Practice, Referral

router = APIRouter(tags=["practices"])
log = logging.getLogger(__name__)


@router.post(
    "/referrals",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralCreated,
    summary="Refer a patient to social prescribing",
)
async def submit_referral(
    submission: ReferralSubmission,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    access: AccessDep,
) -> ReferralCreated:
    access.require(PRACTICE, to="refer a patient")
    if session.get(Practice, submission.practice_ods) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"practice_ods: {submission.practice_ods} is not a practice served here; "
            "check the ODS code",
        )
    if submission.practice_ods != access.principal.organisation_id:
        raise forbidden(
            f"practice_ods: you are signed in for practice {access.principal.organisation_id} "
            "and may refer only from it"
        )
    referral_id = uuid4()
    session.add(
        Referral(
            id=referral_id,
            practice_ods=submission.practice_ods,
            need_codes=submission.need_codes,
        )
    )
    session.flush()
    session.add(
        Person(
            referral_id=referral_id,
            **submission.model_dump(exclude={"practice_ods", "need_codes", "consent_given"}),
        )
    )
    # Committed before the workflow starts, because its first step reads these rows, and so
    # that no database lock is held while Temporal answers.
    session.commit()
    workflow_id = workflow_id_for(referral_id)
    try:
        await temporal.start_workflow(
            REFERRAL_WORKFLOW,
            ReferralInput(
                referral_id=referral_id,
                practice_ods=submission.practice_ods,
                need_codes=submission.need_codes,
                policy=settings.policy,
            ),
            id=workflow_id,
            task_queue=settings.task_queue,
        )
    except RPCError as error:
        _forget(session, referral_id)
        log.error("could not start workflow %s: %s", workflow_id, error.message)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "The referral could not be started and was not saved; send it again.",
        ) from error
    access.log(referral_id)
    log.info(
        "referral %s received from %s by %s",
        referral_id,
        submission.practice_ods,
        access.principal.subject,
    )
    return ReferralCreated(id=referral_id, workflow_id=workflow_id, status=ReferralStatus.RECEIVED)


def _forget(session: Session, referral_id: UUID) -> None:
    """Undo a submission whose workflow never started, so nothing is left half-made."""
    session.execute(delete(Person).where(col(Person.referral_id) == referral_id))
    session.execute(delete(Referral).where(col(Referral.id) == referral_id))
    session.commit()


@router.post(
    "/referrals/{referral_id}/cancel",
    response_model=ReferralState,
    summary="The referring practice cancels its referral",
)
async def cancel_referral(
    referral_id: UUID, session: SessionDep, temporal: TemporalDep, access: AccessDep
) -> ReferralState:
    access.actionable_referral_or_404(referral_id, PRACTICE, to="cancel a referral")
    return await run_step(
        temporal,
        session,
        referral_id,
        ReferralUpdate.CLOSE,
        Closure(actor=access.principal.actor, reason=ClosureReason.CANCELLED_BY_REFERRER),
    )
