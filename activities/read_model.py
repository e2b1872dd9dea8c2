"""Activities that project referral steps into the read model. Each is safe to run twice."""

import logging
import time
from uuid import UUID

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.outbox import deliver_pending, queue_message
from activities.report_facts import record_report_facts
from activities.senders import LogSender, MessageSender
from domain.enums import INTAKE_NOT_COMMITTED, AssigneeKind, ReferralStatus, TaskStatus
from domain.measures import DEFAULT_THRESHOLDS, MeasureThresholds
from domain.messages import Assignment, AssignmentRequest, Projection, ServiceReferralState
from domain.tables import (
    AppliedStep,
    AuditEvent,
    LinkWorker,
    OutcomeRecord,
    Person,
    Practice,
    Referral,
    ServiceReferral,
    Task,
    utcnow,
)

log = logging.getLogger(__name__)
INTAKE_POLL_SECONDS = 0.02
INTAKE_PATIENCE_SECONDS = 2.0


# Every activity here is declared with ``no_thread_cancel_exception``. Otherwise cancellation
# (a workflow terminated, a worker shutting down) is raised inside the activity's thread at
# any bytecode, also between psycopg sending a statement and reading its answer: the pooled
# connection is then lost mid-command, in a transaction whose locks nobody ever releases.
# Each step is one short transaction, so letting it finish is both safe and quick.
class ReadModelActivities:
    def __init__(
        self,
        engine: Engine,
        sender: MessageSender | None = None,
        thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self._engine = engine
        self._sender = sender or LogSender()
        self._thresholds = thresholds

    @activity.defn(name="apply_projection", no_thread_cancel_exception=True)
    def apply_projection(self, projection: Projection) -> None:
        """Write one workflow step to the read model in one transaction, then send its mail.

        The (referral, step) row in ``applied_step`` is written in the same transaction, so a
        retried step finds it and writes nothing again.
        """
        if projection.rows_due_by is not None:
            _await_intake_rows(self._engine, projection.referral_id)
        with Session(self._engine, expire_on_commit=False) as session:
            key = (projection.referral_id, projection.step_key)
            if session.get(AppliedStep, key) is None:
                try:
                    _apply(session, projection, self._thresholds)
                    session.add(AppliedStep(referral_id=key[0], step_key=key[1]))
                    session.commit()
                except IntegrityError:
                    # Another attempt of this same step committed first.
                    session.rollback()
                    if session.get(AppliedStep, key) is None:
                        raise
        if projection.messages:
            deliver_pending(self._engine, self._sender, projection.referral_id)

    @activity.defn(name="assign_link_worker", no_thread_cancel_exception=True)
    def assign_link_worker(self, request: AssignmentRequest) -> Assignment:
        """The least-loaded active link worker of the team that covers the practice."""
        with Session(self._engine) as session:
            practice = session.get(Practice, request.practice_ods)
            if practice is None:
                raise ApplicationError(
                    f"practice {request.practice_ods} is not known", non_retryable=True
                )
            referral = session.get(Referral, request.referral_id)
            open_caseload = (
                select(func.count(col(Referral.id)))
                .where(Referral.link_worker_id == LinkWorker.id)
                .where(Referral.status != ReferralStatus.CLOSED)
                .scalar_subquery()
            )
            workers = session.exec(
                select(LinkWorker, open_caseload)
                .where(LinkWorker.team_id == practice.team_id)
                .where(col(LinkWorker.active).is_(True))
                .order_by(open_caseload, col(LinkWorker.id))
            ).all()
            if not workers:
                # Retried until someone joins the team: the referral waits rather than fails.
                raise ApplicationError(f"team {practice.team_id} has no active link worker")
            chosen = workers[0][0].id
            if referral is not None and referral.link_worker_id:
                chosen = referral.link_worker_id
            leads = [worker.id for worker, _ in workers if worker.is_team_lead]
            return Assignment(link_worker_id=chosen, team_lead_id=leads[0] if leads else chosen)


def _await_intake_rows(engine: Engine, referral_id: UUID) -> None:
    """Wait briefly for the rows the API commits just after starting the workflow.

    They usually land within milliseconds; waiting here spares a failed attempt, a retry and
    a logged failure for nearly every new referral. ``_apply`` still fails if they never come.
    """
    give_up = time.monotonic() + INTAKE_PATIENCE_SECONDS
    while time.monotonic() < give_up:
        with Session(engine) as session:
            if session.get(Referral, referral_id) is not None:
                return
        time.sleep(INTAKE_POLL_SECONDS)


def _apply(session: Session, projection: Projection, thresholds: MeasureThresholds) -> None:
    referral = session.get(Referral, projection.referral_id)
    if referral is None:
        # The API starts the workflow first and commits the rows just after: retried until
        # they are visible, and given up (the workflow then ends) if they never come.
        due = projection.rows_due_by
        raise ApplicationError(
            f"referral {projection.referral_id} has no row",
            type=INTAKE_NOT_COMMITTED,
            non_retryable=due is None or utcnow() > due,
        )
    _update_summary(session, referral, projection)
    _update_tasks(session, projection)
    for state in projection.service_referrals:
        _upsert_service_referral(session, projection.referral_id, state)
    session.flush()
    for outcome in projection.outcomes:
        for measure in outcome.measures:
            session.add(
                OutcomeRecord(
                    referral_id=projection.referral_id,
                    checkpoint=outcome.checkpoint,
                    instrument=measure.instrument,
                    version=measure.version,
                    answers=measure.answers,
                    recorded_at=projection.at,
                )
            )
        if outcome.missed:
            session.add(
                OutcomeRecord(
                    referral_id=projection.referral_id,
                    checkpoint=outcome.checkpoint,
                    instrument="none",
                    missed=True,
                    recorded_at=projection.at,
                )
            )
    session.flush()
    record_report_facts(session, referral, projection, thresholds)
    session.add(
        AuditEvent(
            referral_id=projection.referral_id,
            actor_kind=projection.actor.kind.value,
            actor_id=projection.actor.id,
            action=projection.action,
            at=projection.at,
            detail={"status": projection.status.value, **projection.detail},
        )
    )
    session.flush()
    for message in projection.messages:
        queue_message(session, projection, message)


def _update_summary(session: Session, referral: Referral, projection: Projection) -> None:
    previous_worker = referral.link_worker_id
    referral.status = projection.status
    referral.closure_reason = projection.closure_reason
    referral.link_worker_id = projection.link_worker_id
    referral.updated_at = projection.at
    if projection.need_codes is not None:
        referral.need_codes = projection.need_codes
    if projection.status == ReferralStatus.CLOSED:
        referral.closed_at = projection.at
        # A new referral for this person may be made once this one is closed.
        session.execute(
            update(Person)
            .where(col(Person.referral_id) == referral.id)
            .values(open_nhs_number=None)
        )
    session.add(referral)
    if previous_worker and previous_worker != projection.link_worker_id:
        session.execute(
            update(Task)
            .where(col(Task.referral_id) == referral.id)
            .where(col(Task.assignee_kind) == AssigneeKind.LINK_WORKER)
            .where(col(Task.assignee_id) == previous_worker)
            .where(col(Task.status) == TaskStatus.OPEN)
            .values(assignee_id=projection.link_worker_id)
        )


def _update_tasks(session: Session, projection: Projection) -> None:
    open_tasks = (
        update(Task)
        .where(col(Task.referral_id) == projection.referral_id)
        .where(col(Task.status) == TaskStatus.OPEN)
    )
    for closure in projection.close_tasks:
        query = open_tasks.where(col(Task.kind) == closure.kind)
        if closure.subject_id is not None:
            query = query.where(col(Task.subject_id) == closure.subject_id)
        session.execute(query.values(status=closure.status, closed_at=projection.at))
    if projection.cancel_open_tasks:
        session.execute(open_tasks.values(status=TaskStatus.CANCELLED, closed_at=projection.at))
    for spec in projection.open_tasks:
        session.add(
            Task(
                referral_id=projection.referral_id,
                step_key=projection.step_key,
                created_at=projection.at,
                **spec.model_dump(),
            )
        )


def _upsert_service_referral(
    session: Session, referral_id: UUID, state: ServiceReferralState
) -> None:
    fields = state.model_dump(exclude={"id"})
    row = session.get(ServiceReferral, state.id) or ServiceReferral(
        id=state.id, referral_id=referral_id, **fields
    )
    for field, value in fields.items():
        setattr(row, field, value)
    session.add(row)
