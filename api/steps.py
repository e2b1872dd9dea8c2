"""The step service: every human step of a referral, for JSON routes and web pages alike.

``Steps`` (through ``StepsDep``) holds the caller's ``Access`` and the Temporal client. Each
step is one small method; all of them take the one path ``_run``:

1. in a worker thread: the access check (404 for someone else's referral, 403 for the
   wrong role, logged), the step's own checks (a service chosen is in the directory...), and
   the note rows of the step, committed hidden (``step_key`` None), so the connection goes
   back to the pool before Temporal is awaited;
2. the workflow update, by typed reference, with the ids of those notes in ``note_ids``;
3. the answer: the workflow's state as this caller may see it (``api.consent``).

Notes and goals are written *before* the update, never after: once the workflow has accepted
a step, a failed write could no longer take the step back, and the note would be lost. The
step's projection sets ``step_key`` on the ids it carries, in the transaction that applies
the step, and only notes with a ``step_key`` are ever shown. If the workflow refuses the step,
or the update fails, the hidden rows are deleted again (best effort; any left behind stay
invisible), so a refused step leaves nothing behind.

Every refusal is a ``Refused`` (status, message, field): JSON routes let the app's handler
answer it, web pages catch it and show its message.
"""

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any, TypeVar, cast
from uuid import UUID

from fastapi import Depends, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlmodel import Session, col, delete
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from api.access import LINK_WORKER_TEAM, PRACTICE, Access, AccessDep
from api.consent import state_for, state_for_organisation
from api.deps import TemporalDep
from api.errors import Refused
from api.metrics import STEPS_REFUSED
from api.schemas import (
    AssessmentIn,
    ConnectionIn,
    ContactAttemptIn,
    FollowUpIn,
    LinkWorkerClosureIn,
    Note,
    OrganisationResponseIn,
    ReassignmentIn,
    ReferralProgress,
    ReferralStateForOrganisation,
    UptakeIn,
)
from catalogue.lookup import active_service
from core.db import transaction_ended
from core.temporal import StepNotTaken
from domain.enums import ILLEGAL_STEP, ClosureReason, OrganisationKind
from domain.messages import (
    Actor,
    Assessment,
    Closure,
    Connection,
    ContactAttempt,
    FollowUpRecord,
    OrganisationResponse,
    Reassignment,
    ReferralState,
    ServiceChoice,
    UptakeConfirmation,
    workflow_id_for,
)
from domain.tables import LinkWorker, Practice, Referral, ReferralNote
from workflows.referral import ReferralWorkflow

log = logging.getLogger(__name__)

StepT = TypeVar("StepT", bound=BaseModel)
# An update of ``ReferralWorkflow`` taking a step of type ``StepT``. The SDK types an async
# update's result as its coroutine; what comes back is the state, decoded as ``ReferralState``
# from the method's return annotation.
Update = UpdateMethodMultiParam[[ReferralWorkflow, StepT], ReferralState]
# (kind, text) of each note a step carries; an empty text is no note.
Notes = Sequence[tuple[str, str | None]]
# Builds the step's message from the actor and the ids of its notes, in the worker thread
# (where it may read the database, and refuse with a 422).
Build = Callable[[Session, Actor, list[int]], StepT]

NOT_ANSWERING = "The workflow service did not answer; try again."
CLOSED = "This referral is closed; no further steps can be recorded."
NOT_TAKEN = (
    "The workflow service took no step in time (no worker is running). The step may still "
    "be recorded when one starts: look at the referral again before repeating it."
)


class Steps:
    """The human steps of a referral, as the signed-in caller of one request performs them.

    Every method raises ``Refused`` when the step is not done: 404 (not this caller's to
    see), 403 (not their role's to do), 422 (a value that cannot be used, ``field`` says
    which), 409 (not possible now, or closed), 503 (Temporal did not answer, or no
    worker took the step in time).
    """

    def __init__(self, access: Access, temporal: Client) -> None:
        self.access = access
        self.temporal = temporal

    # --- link workers -------------------------------------------------------------------

    async def record_contact_attempt(
        self, referral_id: UUID, attempt: ContactAttemptIn
    ) -> ReferralProgress:
        return await self._referral_step(
            referral_id,
            LINK_WORKER_TEAM,
            to="record a contact attempt",
            update=ReferralWorkflow.record_contact_attempt,
            build=lambda _, actor, notes: ContactAttempt(
                actor=actor, method=attempt.method, reached=attempt.reached, note_ids=notes
            ),
            notes=[("contact_attempt", attempt.note)],
        )

    async def record_assessment(
        self, referral_id: UUID, assessment: AssessmentIn
    ) -> ReferralProgress:
        return await self._referral_step(
            referral_id,
            LINK_WORKER_TEAM,
            to="record the 'what matters' conversation",
            update=ReferralWorkflow.record_assessment,
            build=lambda _, actor, notes: Assessment(
                actor=actor,
                need_codes=assessment.need_codes,
                baseline=assessment.baseline,
                note_ids=notes,
            ),
            notes=[("goal", goal) for goal in assessment.goals],
        )

    async def connect_services(
        self, referral_id: UUID, connection: ConnectionIn
    ) -> ReferralProgress:
        def build(session: Session, actor: Actor, _: list[int]) -> Connection:
            # Any active service may be chosen, suggested or not: the link worker knows
            # the person.
            choices = []
            for position, service_id in enumerate(connection.service_ids):
                service = active_service(session, service_id)
                if service is None:
                    raise Refused(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        f"{service_id} is not an active service in the directory",
                        field=f"service_ids.{position}",
                    )
                choices.append(
                    ServiceChoice(
                        service_id=service.service_id, organisation_id=service.organization_id
                    )
                )
            return Connection(actor=actor, choices=choices)

        return await self._referral_step(
            referral_id,
            LINK_WORKER_TEAM,
            to="connect the person to services",
            update=ReferralWorkflow.connect_services,
            build=build,
        )

    async def record_follow_up(
        self, referral_id: UUID, checkpoint: int, follow_up: FollowUpIn
    ) -> ReferralProgress:
        return await self._referral_step(
            referral_id,
            LINK_WORKER_TEAM,
            to="record a follow-up",
            update=ReferralWorkflow.record_follow_up,
            build=lambda _, actor, __: FollowUpRecord(
                actor=actor, checkpoint=checkpoint, measures=follow_up.measures
            ),
        )

    async def close(self, referral_id: UUID, closure: LinkWorkerClosureIn) -> ReferralProgress:
        """Close early: the person declined, is ineligible, or no suitable service exists."""
        return await self._referral_step(
            referral_id,
            LINK_WORKER_TEAM,
            to="close a referral",
            update=ReferralWorkflow.close,
            build=lambda _, actor, notes: Closure(
                actor=actor, reason=closure.reason, note_ids=notes
            ),
            notes=[(f"closure_{closure.reason.value}", closure.note)],
        )

    async def reassign(self, referral_id: UUID, reassignment: ReassignmentIn) -> ReferralProgress:
        def build(session: Session, actor: Actor, _: list[int]) -> Reassignment:
            referral = session.get(Referral, referral_id)
            practice = session.get(Practice, referral.practice_ods) if referral else None
            worker = session.get(LinkWorker, reassignment.link_worker_id)
            if (
                worker is None
                or practice is None
                or worker.team_id != practice.team_id
                or not worker.active
            ):
                raise Refused(
                    status.HTTP_422_UNPROCESSABLE_CONTENT,
                    f"{reassignment.link_worker_id} is not an active link worker of the team "
                    "that covers this practice",
                    field="link_worker_id",
                )
            return Reassignment(actor=actor, link_worker_id=worker.id)

        return await self._referral_step(
            referral_id,
            LINK_WORKER_TEAM,
            to="reassign a referral",
            update=ReferralWorkflow.reassign,
            build=build,
        )

    # --- practices, and link workers ---------------------------------------------------

    async def withdraw_consent(self, referral_id: UUID, body: Note) -> ReferralProgress:
        """The person withdrew consent: stop everything and tell everyone involved."""
        return await self._referral_step(
            referral_id,
            PRACTICE,
            LINK_WORKER_TEAM,
            to="record that consent was withdrawn",
            update=ReferralWorkflow.close,
            build=lambda _, actor, notes: Closure(
                actor=actor, reason=ClosureReason.CONSENT_WITHDRAWN, note_ids=notes
            ),
            notes=[("consent_withdrawn", body.note)],
        )

    async def cancel(self, referral_id: UUID) -> ReferralProgress:
        """The referring practice cancels its referral."""
        return await self._referral_step(
            referral_id,
            PRACTICE,
            to="cancel a referral",
            update=ReferralWorkflow.close,
            build=lambda _, actor, __: Closure(
                actor=actor, reason=ClosureReason.CANCELLED_BY_REFERRER
            ),
        )

    # --- organisations ------------------------------------------------------------------

    async def respond(
        self, service_referral_id: UUID, response: OrganisationResponseIn
    ) -> ReferralStateForOrganisation:
        """Accept or decline a referral to one of the caller's services."""
        state = await self._run(
            partial(self._own_service_referral, service_referral_id),
            ReferralWorkflow.respond_to_referral,
            lambda _, actor, __: OrganisationResponse(
                actor=actor,
                service_referral_id=service_referral_id,
                accepted=response.accepted,
                reason_code=response.reason_code,
            ),
        )
        # Its own service referrals only, none of the link worker's work: see api.consent.
        return await run_in_threadpool(self._as_seen_by_organisation, state)

    async def confirm_uptake(
        self, service_referral_id: UUID, uptake: UptakeIn
    ) -> ReferralStateForOrganisation:
        """Confirm that the person started, or did not attend."""
        state = await self._run(
            partial(self._own_service_referral, service_referral_id),
            ReferralWorkflow.confirm_uptake,
            lambda _, actor, __: UptakeConfirmation(
                actor=actor, service_referral_id=service_referral_id, started=uptake.started
            ),
        )
        return await run_in_threadpool(self._as_seen_by_organisation, state)

    # --- the one path -------------------------------------------------------------------

    async def _referral_step(
        self,
        referral_id: UUID,
        *allowed: OrganisationKind,
        to: str,
        update: Update[StepT],
        build: Build[StepT],
        notes: Notes = (),
    ) -> ReferralProgress:
        find = partial(self.access.actionable_referral_or_404, referral_id, *allowed, to=to)
        state = await self._run(lambda: find().id, update, build, notes)
        # A practice's view depends on its patient's consent: a read, so in a thread.
        return await run_in_threadpool(self._as_seen_by_caller, state)

    def _own_service_referral(self, service_referral_id: UUID) -> UUID:
        return self.access.own_service_referral_or_404(service_referral_id).referral_id

    async def _run(
        self,
        find: Callable[[], UUID],
        update: Update[StepT],
        build: Build[StepT],
        notes: Notes = (),
    ) -> ReferralState:
        referral_id, step, note_ids = await run_in_threadpool(self._prepare, find, build, notes)
        handle: WorkflowHandle[ReferralWorkflow, ReferralState] = (
            self.temporal.get_workflow_handle_for(
                ReferralWorkflow.run, workflow_id_for(referral_id)
            )
        )
        try:
            state: Any = await handle.execute_update(update, step)
            return cast(ReferralState, state)
        except WorkflowUpdateFailedError as error:
            await self._forget(note_ids)
            cause: Any = error.cause
            if isinstance(cause, ApplicationError) and cause.type == ILLEGAL_STEP:
                STEPS_REFUSED.inc()
                raise Refused(status.HTTP_409_CONFLICT, cause.message) from error
            raise
        except RPCError as error:
            await self._forget(note_ids)
            raise await _refusal_for(handle, error) from error
        except StepNotTaken as error:
            # The update may wait on the server and be applied when a worker starts, with the
            # ids of these notes in it: they stay, hidden until then.
            log.warning("no worker took a step of %s in time", handle.id)
            raise Refused(status.HTTP_503_SERVICE_UNAVAILABLE, NOT_TAKEN) from error
        except BaseException:
            await self._forget(note_ids)
            raise

    def _prepare(
        self, find: Callable[[], UUID], build: Build[StepT], notes: Notes
    ) -> tuple[UUID, StepT, list[int]]:
        """In a worker thread: check, build the step, write its notes hidden, and give the
        connection back before the workflow is awaited."""
        session = self.access.session
        actor = self.access.principal.actor
        try:
            try:
                referral_id = find()
            except HTTPException as error:
                raise Refused(error.status_code, str(error.detail)) from None
            rows = [
                ReferralNote(referral_id=referral_id, kind=kind, text=text, author_id=actor.id)
                for kind, text in notes
                if text
            ]
            session.add_all(rows)
            session.flush()
            note_ids = [row.id for row in rows if row.id is not None]
            step = build(session, actor, note_ids)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return referral_id, step, note_ids

    async def _forget(self, note_ids: list[int]) -> None:
        if note_ids:
            await run_in_threadpool(self._delete_hidden_notes, note_ids)

    def _delete_hidden_notes(self, note_ids: list[int]) -> None:
        try:
            with Session(self.access.session.get_bind()) as session:
                session.execute(
                    delete(ReferralNote)
                    .where(col(ReferralNote.id).in_(note_ids))
                    .where(col(ReferralNote.step_key).is_(None))
                )
                session.commit()
        except Exception as error:
            # Left behind, they stay hidden: no step ever carries their ids again.
            log.warning("could not delete the notes of a refused step: %s", type(error).__name__)

    def _as_seen_by_caller(self, state: ReferralState) -> ReferralProgress:
        with transaction_ended(self.access.session):  # the connection goes back to the pool
            return state_for(self.access, state)

    def _as_seen_by_organisation(self, state: ReferralState) -> ReferralStateForOrganisation:
        with transaction_ended(self.access.session):
            return state_for_organisation(self.access, state)


async def _refusal_for(handle: WorkflowHandle[Any, Any], error: RPCError) -> Refused:
    if error.status != RPCStatusCode.NOT_FOUND:
        return Refused(status.HTTP_503_SERVICE_UNAVAILABLE, NOT_ANSWERING)
    # Servers word "that workflow has finished" differently; asking is the reliable way.
    try:
        running = (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    except RPCError:
        return Refused(status.HTTP_404_NOT_FOUND, "No process runs for this referral.")
    if running:
        return Refused(status.HTTP_503_SERVICE_UNAVAILABLE, NOT_ANSWERING)
    STEPS_REFUSED.inc()
    return Refused(status.HTTP_409_CONFLICT, CLOSED)


async def current_state(client: Client, referral_id: UUID) -> ReferralState | None:
    """Where the referral's workflow is now; None if Temporal could not be asked."""
    handle: WorkflowHandle[ReferralWorkflow, ReferralState] = client.get_workflow_handle_for(
        ReferralWorkflow.run, workflow_id_for(referral_id)
    )
    try:
        return await handle.query(ReferralWorkflow.state)
    except RPCError:
        return None


async def get_steps(access: AccessDep, temporal: TemporalDep) -> Steps:
    # async: it only wraps what it is given (see api.deps on thread hand-overs).
    return Steps(access, temporal)


StepsDep = Annotated[Steps, Depends(get_steps)]
