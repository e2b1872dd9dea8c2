"""Activities that project referral steps into the read model. Each is safe to run twice."""

import logging
import time
from typing import Any, cast
from uuid import UUID

from sqlalchemy import CursorResult, Engine, Row, bindparam, func, insert, literal, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.outbox import queue_message
from activities.report_facts import MILESTONE, ReferralFacts, record_report_facts
from domain.enums import (
    INTAKE_NOT_COMMITTED,
    AssigneeKind,
    ProjectionAction,
    ReferralStatus,
    TaskKind,
    TaskStatus,
)
from domain.measures import DEFAULT_THRESHOLDS, MeasureThresholds
from domain.messages import (
    Assignment,
    AssignmentRequest,
    MeasureAnswers,
    Projection,
    ServiceReferralState,
)
from domain.tables import (
    AppliedStep,
    AuditEvent,
    LinkWorker,
    OutcomeRecord,
    Person,
    Practice,
    Referral,
    ReferralNote,
    ServiceReferral,
    Task,
    table_of,
    utcnow,
)

log = logging.getLogger(__name__)
INTAKE_POLL_SECONDS = 0.02
INTAKE_PATIENCE_SECONDS = 2.0


APPLIED_STEP = table_of(AppliedStep)
AUDIT_EVENT = table_of(AuditEvent)
OUTCOME_RECORD = table_of(OutcomeRecord)
PERSON = table_of(Person)
REFERRAL = table_of(Referral)
REFERRAL_NOTE = table_of(ReferralNote)
SERVICE_REFERRAL = table_of(ServiceReferral)
TASK = table_of(Task)
_IS_APPLIED = select(literal(1)).where(
    APPLIED_STEP.c.referral_id == bindparam("referral_id"),
    APPLIED_STEP.c.step_key == bindparam("step_key"),
)
_STEP_CONTEXT = (
    select(
        REFERRAL.c.practice_ods,
        REFERRAL.c.created_at,
        REFERRAL.c.link_worker_id,
        APPLIED_STEP.c.step_key.label("applied_step"),
        *(column.label(f"milestone_{column.name}") for column in MILESTONE.c),
    )
    .select_from(
        REFERRAL.outerjoin(
            APPLIED_STEP,
            (APPLIED_STEP.c.referral_id == REFERRAL.c.id)
            & (APPLIED_STEP.c.step_key == bindparam("step_key")),
        ).outerjoin(MILESTONE, MILESTONE.c.referral_id == REFERRAL.c.id)
    )
    .where(REFERRAL.c.id == bindparam("referral_id"))
)


def _milestone_of(context: Row[Any]) -> dict[str, Any] | None:
    """The funnel row read with the step's context, None if the referral has none yet."""
    if context.milestone_referral_id is None:
        return None
    return {column.name: context._mapping[f"milestone_{column.name}"] for column in MILESTONE.c}


# Every activity here is declared with ``no_thread_cancel_exception``. Otherwise cancellation
# (a workflow terminated, a worker shutting down) is raised inside the activity's thread at
# any bytecode, also between psycopg sending a statement and reading its answer: the pooled
# connection is then lost mid-command, in a transaction whose locks nobody ever releases.
# Each step is one short transaction, so letting it finish is both safe and quick.
class ReadModelActivities:
    def __init__(
        self,
        engine: Engine,
        thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self._engine = engine
        self._thresholds = thresholds

    @activity.defn(name="apply_projection", no_thread_cancel_exception=True)
    def apply_projection(self, projection: Projection) -> None:
        """Write one workflow step to the read model in one transaction; its messages wait
        in the outbox for the relay (activities/relay.py), so a slow channel never times a
        step out.

        The (referral, step) row in ``applied_step`` is written in the same transaction, so a
        retried step finds it and writes nothing again.
        """
        if projection.rows_due_by is not None:
            _await_intake_rows(self._engine, projection.referral_id)
        with Session(self._engine, expire_on_commit=False) as session:
            key = {"referral_id": projection.referral_id, "step_key": projection.step_key}
            # One query for whether the step is applied, the referral's summary and its
            # funnel row: each statement is a round trip through the GIL, which the worker's
            # other threads keep busy, so three separate reads cost far more than their work.
            context = session.execute(_STEP_CONTEXT, key).first()
            applied = (context.applied_step is not None) if context else _applied(session, key)
            if not applied:
                try:
                    _apply(session, projection, context, self._thresholds)
                    session.execute(insert(APPLIED_STEP), key | {"applied_at": utcnow()})
                    session.commit()
                except IntegrityError:
                    # Another attempt of this same step committed first.
                    session.rollback()
                    if not _applied(session, key):
                        raise

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


def _applied(session: Session, key: dict[str, Any]) -> bool:
    return session.execute(_IS_APPLIED, key).first() is not None


def _apply(
    session: Session,
    projection: Projection,
    summary: Row[Any] | None,
    thresholds: MeasureThresholds,
) -> None:
    # The rows this step writes are plain inserts and updates of known columns, so they are
    # written with SQLAlchemy Core: the ORM's loading and unit of work cost most of each
    # step's time (twelve steps a referral) and bought nothing here. Only the outbox, which
    # reads several rows to word its messages, still uses the ORM.
    if summary is None:
        # The API starts the workflow first and commits the rows just after: retried until
        # they are visible, and given up (the workflow then ends) if they never come.
        due = projection.rows_due_by
        raise ApplicationError(
            f"referral {projection.referral_id} has no row",
            type=INTAKE_NOT_COMMITTED,
            non_retryable=due is None or utcnow() > due,
        )
    _update_summary(session, projection, previous_worker=summary.link_worker_id)
    _update_tasks(session, projection)
    for state in projection.service_referrals:
        _upsert_service_referral(session, projection.referral_id, state)
    outcomes = [
        _outcome_row(projection, outcome.checkpoint, measure)
        for outcome in projection.outcomes
        for measure in [*outcome.measures, *([None] if outcome.missed else [])]
    ]
    if outcomes:
        session.execute(insert(OUTCOME_RECORD), outcomes)
    record_report_facts(
        session,
        ReferralFacts(
            projection.referral_id,
            summary.practice_ods,
            summary.created_at,
            milestone=_milestone_of(summary),
        ),
        projection,
        thresholds,
    )
    session.execute(
        insert(AUDIT_EVENT),
        {
            "referral_id": projection.referral_id,
            "actor_kind": projection.actor.kind.value,
            "actor_id": projection.actor.id,
            "action": projection.action.value,
            "at": projection.at,
            "detail": timeline_detail(projection),
        },
    )
    if projection.note_ids:
        _show_notes(session, projection)
    for message in projection.messages:
        queue_message(session, projection, message)
    session.flush()


def timeline_detail(projection: Projection) -> dict[str, Any]:
    """What the timeline says of a step, in the words (keys) its entries have always had."""
    detail: dict[str, Any] = {"status": projection.status.value}
    if projection.previous_link_worker_id is not None:
        detail["from"] = projection.previous_link_worker_id
    if projection.contact_method is not None:
        detail["method"] = projection.contact_method.value
    if projection.reached is not None:
        detail["reached"] = projection.reached
    if projection.chosen_service_ids is not None:
        detail["services"] = ",".join(projection.chosen_service_ids)
    if projection.suggested_service_ids is not None:
        # Once services are chosen, which of them were suggested; before, all suggestions.
        chosen = projection.chosen_service_ids
        suggested = projection.suggested_service_ids
        shown = suggested if chosen is None else [s for s in chosen if s in suggested]
        detail["suggested"] = ",".join(shown)
    if projection.service_referral_id is not None:
        detail["service_referral_id"] = str(projection.service_referral_id)
    if projection.action in (
        ProjectionAction.ORGANISATION_ACCEPTED,
        ProjectionAction.ORGANISATION_DECLINED,
    ):
        detail["reason_code"] = projection.reason_code
    if projection.checkpoint is not None:
        detail["checkpoint"] = projection.checkpoint
    if projection.action == ProjectionAction.CLOSED:
        detail["closure_reason"] = projection.closure_reason and projection.closure_reason.value
        detail["person_accepted"] = projection.person_accepted
    return detail


def _show_notes(session: Session, projection: Projection) -> None:
    """The step's notes, written hidden before the step was sent, now belong to it."""
    session.execute(
        update(REFERRAL_NOTE)
        .where(REFERRAL_NOTE.c.referral_id == projection.referral_id)
        .where(REFERRAL_NOTE.c.id.in_(projection.note_ids))
        .where(REFERRAL_NOTE.c.step_key.is_(None))
        .values(step_key=projection.step_key)
    )


def _outcome_row(
    projection: Projection, checkpoint: str, measure: MeasureAnswers | None
) -> dict[str, Any]:
    """A measure recorded at ``checkpoint``, or (``None``) the checkpoint missed."""
    return {
        "referral_id": projection.referral_id,
        "checkpoint": checkpoint,
        "instrument": measure.instrument if measure else "none",
        "version": measure.version if measure else "1",
        "answers": measure.answers if measure else {},
        "missed": measure is None,
        "recorded_at": projection.at,
    }


def _update_summary(session: Session, projection: Projection, previous_worker: str | None) -> None:
    referral_id = projection.referral_id
    values: dict[str, Any] = {
        "status": projection.status,
        "closure_reason": projection.closure_reason,
        "link_worker_id": projection.link_worker_id,
        "updated_at": projection.at,
    }
    if projection.need_codes is not None:
        values["need_codes"] = projection.need_codes
    if projection.status == ReferralStatus.CLOSED:
        values["closed_at"] = projection.at
        # A new referral for this person may be made once this one is closed.
        session.execute(
            update(PERSON).where(PERSON.c.referral_id == referral_id).values(open_nhs_number=None)
        )
    session.execute(update(REFERRAL).where(REFERRAL.c.id == referral_id).values(values))
    if previous_worker and previous_worker != projection.link_worker_id:
        session.execute(
            update(TASK)
            .where(TASK.c.referral_id == referral_id)
            .where(TASK.c.assignee_kind == AssigneeKind.LINK_WORKER)
            .where(TASK.c.assignee_id == previous_worker)
            .where(TASK.c.status == TaskStatus.OPEN)
            .values(assignee_id=projection.link_worker_id)
        )


def _update_tasks(session: Session, projection: Projection) -> None:
    open_tasks = (
        update(TASK)
        .where(TASK.c.referral_id == projection.referral_id)
        .where(TASK.c.status == TaskStatus.OPEN)
    )
    # Successive closures of the same subject and outcome are one UPDATE (a first contact
    # attempt closes three kinds of task, an organisation's answer two).
    groups: list[tuple[str | None, TaskStatus, list[TaskKind]]] = []
    for closure in projection.close_tasks:
        if groups and groups[-1][:2] == (closure.subject_id, closure.status):
            groups[-1][2].append(closure.kind)
        else:
            groups.append((closure.subject_id, closure.status, [closure.kind]))
    for subject_id, status, closed in groups:
        query = open_tasks.where(TASK.c.kind.in_(closed))
        if subject_id is not None:
            query = query.where(TASK.c.subject_id == subject_id)
        session.execute(query.values(status=status, closed_at=projection.at))
    if projection.cancel_open_tasks:
        session.execute(open_tasks.values(status=TaskStatus.CANCELLED, closed_at=projection.at))
    if projection.open_tasks:
        session.execute(
            insert(TASK),
            [
                {
                    "referral_id": projection.referral_id,
                    "step_key": projection.step_key,
                    "created_at": projection.at,
                    "status": TaskStatus.OPEN,
                    "closed_at": None,
                    **spec.model_dump(),
                }
                for spec in projection.open_tasks
            ],
        )


def _upsert_service_referral(
    session: Session, referral_id: UUID, state: ServiceReferralState
) -> None:
    fields = state.model_dump(exclude={"id"})
    updated = cast(
        CursorResult[Any],
        session.execute(
            update(SERVICE_REFERRAL).where(SERVICE_REFERRAL.c.id == state.id).values(fields)
        ),
    )
    if updated.rowcount == 0:
        session.execute(
            insert(SERVICE_REFERRAL), fields | {"id": state.id, "referral_id": referral_id}
        )
