"""Taking in a referral, the one way both the JSON and the FHIR routes do it.

Order matters. Checks first (the caller refers for its own practice, the practice is served
here, the person has no open referral); then the workflow starts, with the id derived from
a fresh referral id; only then are the rows written and committed. The workflow's first
step waits for those rows and ends the workflow if they never come, so a failure anywhere
leaves neither a referral without a workflow nor a workflow with a referral to work on.

The referral id is the caller's to choose (``api.idempotency`` fixes it when the request's
key is claimed), so a retry of a request that died part-way carries on with the same id:
rows already saved are the referral made, and a workflow already started that still waits
for its rows is the one to give them to.
"""

import logging
import time
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from fastapi import HTTPException, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.access import PRACTICE, Access
from api.errors import Refused, unavailable
from api.principal import Principal
from api.schemas import ReferralSubmission
from core.settings import Settings
from domain.enums import OrganisationKind, ReferralStatus
from domain.messages import ReferralInput, workflow_id_for
from domain.tables import PERSONAL_FIELDS, Consent, Person, Practice, Referral
from workflows.referral import ReferralWorkflow

log = logging.getLogger(__name__)


class Submitted(NamedTuple):
    referral_id: UUID
    workflow_id: str


async def submit(
    submission: ReferralSubmission,
    access: Access,
    session: Session,
    settings: Settings,
    temporal: Client,
    referral_id: UUID,
    fhir_elements: dict[str, Any] | None = None,
) -> Submitted:
    """Take in the referral ``referral_id`` (new, or begun by an earlier try of the same
    request). ``fhir_elements``: a FHIR referral's elements to read back as sent."""
    principal = access.principal
    workflow_id = workflow_id_for(referral_id)
    if await run_in_threadpool(_check, submission, access, session, referral_id):
        # An earlier try saved it and died before answering: this is its answer.
        await run_in_threadpool(access.log, referral_id)
        return Submitted(referral_id, workflow_id)
    started = time.monotonic()
    try:
        handle = await temporal.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                referral_id=referral_id,
                practice_ods=submission.practice_ods,
                need_codes=submission.need_codes,
                policy=settings.policy,
            ),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError as error:
        # An earlier try started it and died before saving the rows: give them to it if it
        # still waits long enough; otherwise end it, and the caller's next try starts afresh.
        handle = temporal.get_workflow_handle(workflow_id)
        waited = await _waiting_for_rows_since(handle)
        if waited is None or waited > settings.policy.intake_wait.total_seconds() / 2:
            await _abandon(handle)
            raise unavailable() from error
        started -= waited
    except RPCError as error:
        log.error("could not start workflow %s: %s", workflow_id, error)
        # The start may have reached the server even though no answer came back.
        await _abandon(temporal.get_workflow_handle(workflow_id))
        raise unavailable() from error
    try:
        # Past half the workflow's wait, it may give up before this commit lands.
        if time.monotonic() - started > settings.policy.intake_wait.total_seconds() / 2:
            raise TimeoutError("the workflow started too long ago to be sure it still waits")
        # In a worker thread: on SQLite the commit may wait for the worker's projections,
        # and waiting on the event loop would hold up every other request meanwhile.
        await run_in_threadpool(_save, session, referral_id, submission, fhir_elements)
    except IntegrityError as error:
        # Another referral for this person was committed since the check above.
        await run_in_threadpool(session.rollback)
        await _abandon(handle)
        duplicate = await run_in_threadpool(_duplicate, session, submission, principal)
        raise duplicate or unavailable() from error
    except Exception as error:
        await run_in_threadpool(session.rollback)
        await _abandon(handle)
        log.error("could not save referral %s: %s", referral_id, type(error).__name__)
        raise unavailable() from error
    await run_in_threadpool(access.log, referral_id)
    log.info("referral %s received from %s", referral_id, submission.practice_ods)
    return Submitted(referral_id, workflow_id)


async def _waiting_for_rows_since(handle: WorkflowHandle[Any, Any]) -> float | None:
    """Seconds since the workflow started, if it is still running (waiting for its rows)."""
    try:
        described = await handle.describe()
    except RPCError:
        return None
    if described.status != WorkflowExecutionStatus.RUNNING:
        return None
    # Never negative, even if the server's clock is ahead of this one.
    return max(0.0, (datetime.now(UTC) - described.start_time).total_seconds())


def _check(
    submission: ReferralSubmission, access: Access, session: Session, referral_id: UUID
) -> bool:
    """Refuses what may not be referred; True if ``referral_id`` is already saved."""
    try:
        return _refuse_unless_allowed(submission, access, session, referral_id)
    finally:
        # Hold no connection or lock while Temporal answers.
        session.rollback()


def _refuse_unless_allowed(
    submission: ReferralSubmission, access: Access, session: Session, referral_id: UUID
) -> bool:
    try:
        access.require(PRACTICE, to="refer a patient")
    except HTTPException as error:
        # Worded by the route (JSON or FHIR), so carried as a refusal.
        raise Refused(error.status_code, str(error.detail)) from None
    if session.get(Practice, submission.practice_ods) is None:
        raise Refused(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{submission.practice_ods} is not a practice served here; check the ODS code",
            field="practice_ods",
        )
    principal = access.principal
    if submission.practice_ods != principal.organisation_id:
        raise Refused(
            status.HTTP_403_FORBIDDEN,
            f"you are signed in for practice {principal.organisation_id} "
            "and may refer only from it",
            field="practice_ods",
        )
    if session.get(Referral, referral_id) is not None:
        return True  # this person's open referral is this very one
    duplicate = _duplicate(session, submission, principal)
    if duplicate is not None:
        raise duplicate
    return False


def _duplicate(
    session: Session, submission: ReferralSubmission, principal: Principal
) -> Refused | None:
    """409 if the person has an open referral, naming it only to the practice that made it."""
    try:
        return _open_referral_of(session, submission, principal)
    finally:
        session.rollback()


def _open_referral_of(
    session: Session, submission: ReferralSubmission, principal: Principal
) -> Refused | None:
    existing = session.exec(
        select(Referral)
        .join(Person, col(Person.referral_id) == col(Referral.id))
        .where(Person.nhs_number == submission.nhs_number)
        .where(Referral.status != ReferralStatus.CLOSED)
    ).first()
    if existing is None:
        return None
    mine = (
        principal.organisation_kind == OrganisationKind.PRACTICE
        and principal.organisation_id == existing.practice_ods
    )
    return Refused(
        status.HTTP_409_CONFLICT,
        "this person already has an open referral; a new one can be made once it is closed",
        field="nhs_number",
        existing_referral_id=existing.id if mine else None,
    )


def _save(
    session: Session,
    referral_id: UUID,
    submission: ReferralSubmission,
    fhir_elements: dict[str, Any] | None,
) -> None:
    _write(session, referral_id, submission, fhir_elements)
    session.commit()


def _write(
    session: Session,
    referral_id: UUID,
    submission: ReferralSubmission,
    fhir_elements: dict[str, Any] | None = None,
) -> None:
    session.add(
        Referral(
            id=referral_id,
            practice_ods=submission.practice_ods,
            need_codes=submission.need_codes,
            fhir_elements=fhir_elements,
        )
    )
    session.flush()
    session.add(
        Person(
            referral_id=referral_id,
            open_nhs_number=submission.nhs_number,
            **submission.model_dump(include=set(PERSONAL_FIELDS)),
        )
    )
    session.add(
        Consent(
            referral_id=referral_id,
            share_with_organisations=submission.share_with_organisations,
            outcome_to_gp=submission.outcome_to_gp,
            preferred_contact=submission.preferred_contact,
            contact_consent=submission.contact_consent,
        )
    )
    session.flush()


async def _abandon(handle: WorkflowHandle[Any, Any]) -> None:
    """Stop a workflow whose rows were not written. If this fails too, the workflow ends by
    itself when its rows do not come (``ReferralPolicy.intake_wait``)."""
    try:
        await handle.terminate(reason="the referral's rows were not saved")
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            log.warning("could not stop %s: %s", handle.id, error.message)
