"""ReferralWorkflow on its own: every deadline and every ending, read from its projections.

The workflow runs on a time-skipping Temporal server with stand-ins for its local activities
(registered under the real names) that record each projection: no HTTP and no database.
"""

import asyncio
import io
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.enums import (
    ILLEGAL_STEP,
    ActorKind,
    AssigneeKind,
    ClosureReason,
    ContactMethod,
    MessageKind,
    ProjectionAction,
    RecipientKind,
    ReferralStatus,
    ReferralUpdate,
    ServiceReferralStatus,
    TaskKind,
    TaskStatus,
)
from domain.messages import (
    Actor,
    Assessment,
    Closure,
    Connection,
    ContactAttempt,
    FollowUpRecord,
    MeasureAnswers,
    OrganisationResponse,
    Projection,
    Reassignment,
    ReferralInput,
    ReferralState,
    ServiceChoice,
    TaskClosure,
    UptakeConfirmation,
)
from domain.policy import ReferralPolicy
from socialrx.worker import referral_worker
from tests.support.read_model_stand_in import (
    LINK_WORKER,
    POLICY,
    PRACTICE_ODS,
    SUGGESTED,
    TEAM_LEAD,
    ReadModelStandIn,
)
from tests.support.real_logging import real_logging
from tests.support.temporal_env import skip_time
from workflows.referral import ReferralWorkflow

pytestmark = pytest.mark.workflow

HISTORIES = Path(__file__).parents[1] / "histories"
PRACTICE = Actor(kind=ActorKind.PRACTICE, id=PRACTICE_ODS)
LEISURE = Actor(kind=ActorKind.ORGANISATION, id="org-leisure")
ARTS = Actor(kind=ActorKind.ORGANISATION, id="org-arts")
WALKS = ServiceChoice(service_id="svc-walks", organisation_id=LEISURE.id)
POTTERY = ServiceChoice(service_id="svc-pottery", organisation_id=ARTS.id)
WELLBEING = [MeasureAnswers(instrument="ucla3", answers={"lack_companionship": 2})]
PATIENCE_SECONDS = 10.0


@dataclass
class Referral:
    """One running referral workflow, and what it has projected so far."""

    env: WorkflowEnvironment
    handle: WorkflowHandle[ReferralWorkflow, ReferralState]
    read_model: ReadModelStandIn
    seen: int = 0
    """How many projections ``projected`` has looked past."""

    @property
    def actions(self) -> list[ProjectionAction]:
        return [p.action for p in self.read_model.projections]

    async def projected(self, action: ProjectionAction) -> Projection:
        """The next projection of ``action`` (system steps land just after their timer)."""
        give_up = asyncio.get_running_loop().time() + PATIENCE_SECONDS
        while asyncio.get_running_loop().time() < give_up:
            for index, projection in enumerate(self.read_model.projections):
                if index >= self.seen and projection.action == action:
                    self.seen = index + 1
                    return projection
            await asyncio.sleep(0.01)
        raise AssertionError(f"no {action} projected; the actions were {self.actions}")

    async def skip(self, duration: timedelta) -> None:
        await skip_time(self.env, duration)

    async def state(self) -> ReferralState:
        return await self.handle.query(ReferralWorkflow.state)

    async def contact(self, reached: bool, note_ids: list[int] | None = None) -> ReferralState:
        step = ContactAttempt(
            actor=LINK_WORKER, method=ContactMethod.PHONE, reached=reached, note_ids=note_ids or []
        )
        return await self.handle.execute_update(ReferralWorkflow.record_contact_attempt, step)

    async def assess(self, note_ids: list[int] | None = None) -> ReferralState:
        step = Assessment(
            actor=LINK_WORKER,
            need_codes=["sp-social-groups"],
            baseline=WELLBEING,
            note_ids=note_ids or [],
        )
        return await self.handle.execute_update(ReferralWorkflow.record_assessment, step)

    async def connect(self, *choices: ServiceChoice) -> list[UUID]:
        state = await self.handle.execute_update(
            ReferralWorkflow.connect_services, Connection(actor=LINK_WORKER, choices=list(choices))
        )
        return [s.id for s in state.service_referrals[-len(choices) :]]

    async def respond(self, service_referral_id: UUID, accepted: bool, by: Actor) -> ReferralState:
        step = OrganisationResponse(
            actor=by,
            service_referral_id=service_referral_id,
            accepted=accepted,
            reason_code=None if accepted else "no_capacity",
        )
        return await self.handle.execute_update(ReferralWorkflow.respond_to_referral, step)

    async def uptake(self, service_referral_id: UUID, started: bool, by: Actor) -> ReferralState:
        step = UptakeConfirmation(
            actor=by, service_referral_id=service_referral_id, started=started
        )
        return await self.handle.execute_update(ReferralWorkflow.confirm_uptake, step)

    async def follow_up(self, checkpoint: int) -> ReferralState:
        step = FollowUpRecord(actor=LINK_WORKER, checkpoint=checkpoint, measures=WELLBEING)
        return await self.handle.execute_update(ReferralWorkflow.record_follow_up, step)

    async def close(
        self, reason: ClosureReason, by: Actor = LINK_WORKER, note_ids: list[int] | None = None
    ) -> ReferralState:
        step = Closure(actor=by, reason=reason, note_ids=note_ids or [])
        return await self.handle.execute_update(ReferralWorkflow.close, step)

    async def taken_up(self) -> UUID:
        """Reached, assessed, connected to the walks, accepted and started: in follow-up."""
        await self.contact(reached=True)
        await self.assess()
        (walks,) = await self.connect(WALKS)
        await self.respond(walks, accepted=True, by=LEISURE)
        await self.uptake(walks, started=True, by=LEISURE)
        return walks

    async def result(self) -> ReferralState:
        return await asyncio.wait_for(self.handle.result(), PATIENCE_SECONDS)


StartReferral = Callable[..., Awaitable[Referral]]


@pytest.fixture
async def start(workflow_env: WorkflowEnvironment) -> AsyncIterator[StartReferral]:
    """Starts referrals on a worker of their own, with the worker's real sandbox settings."""
    workers: list[Worker] = []
    handles: list[WorkflowHandle[ReferralWorkflow, ReferralState]] = []

    async def start_referral(
        read_model: ReadModelStandIn | None = None, policy: ReferralPolicy = POLICY
    ) -> Referral:
        read_model = read_model or ReadModelStandIn()
        task_queue = f"workflow-test-{uuid4()}"
        worker = referral_worker(
            workflow_env.client,
            task_queue,
            [
                read_model.apply_projection,
                read_model.assign_link_worker,
                read_model.suggest_services,
            ],
        )
        await worker.__aenter__()
        workers.append(worker)
        referral_id = uuid4()
        handle = await workflow_env.client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(referral_id=referral_id, practice_ods=PRACTICE_ODS, policy=policy),
            id=f"referral-{referral_id}",
            task_queue=task_queue,
        )
        handles.append(handle)
        referral = Referral(workflow_env, handle, read_model)
        if read_model.rows_committed:
            await referral.projected(ProjectionAction.ASSIGNED)
        return referral

    yield start_referral
    for handle in handles:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate("test over")
    for worker in workers:
        await worker.__aexit__(None, None, None)


def kinds(tasks: list[Any]) -> list[TaskKind]:
    return [task.kind for task in tasks]


# --- first contact ------------------------------------------------------------------------


async def test_an_assigned_referral_gets_a_first_contact_task_due_in_five_days(
    start: StartReferral,
) -> None:
    referral = await start()
    received = referral.read_model.projections[0]
    assert received.action == ProjectionAction.RECEIVED
    assert received.status == ReferralStatus.RECEIVED
    assert [(m.kind, m.recipient_id) for m in received.messages] == [
        (MessageKind.GP_ACKNOWLEDGEMENT, PRACTICE_ODS)
    ]
    assert received.rows_due_by == received.at + POLICY.intake_wait

    assigned = referral.read_model.projections[1]
    assert (assigned.action, assigned.status, assigned.link_worker_id) == (
        ProjectionAction.ASSIGNED,
        ReferralStatus.ASSIGNED,
        LINK_WORKER.id,
    )
    (task,) = assigned.open_tasks
    assert (task.kind, task.assignee_kind, task.assignee_id) == (
        TaskKind.FIRST_CONTACT,
        AssigneeKind.LINK_WORKER,
        LINK_WORKER.id,
    )
    assert task.due_at == assigned.at + POLICY.first_contact_due


async def test_first_contact_overdue_reminds_the_link_worker_then_escalates_to_the_lead(
    start: StartReferral,
) -> None:
    referral = await start()
    await referral.skip(POLICY.first_contact_due - timedelta(hours=1))
    assert referral.actions == [ProjectionAction.RECEIVED, ProjectionAction.ASSIGNED]

    await referral.skip(timedelta(hours=1))
    reminded = await referral.projected(ProjectionAction.FIRST_CONTACT_OVERDUE)
    (reminder,) = reminded.open_tasks
    assert (reminder.kind, reminder.assignee_id) == (
        TaskKind.FIRST_CONTACT_REMINDER,
        LINK_WORKER.id,
    )

    await referral.skip(POLICY.first_contact_escalation_after)
    escalated = await referral.projected(ProjectionAction.FIRST_CONTACT_ESCALATED)
    (escalation,) = escalated.open_tasks
    assert (escalation.kind, escalation.assignee_kind, escalation.assignee_id) == (
        TaskKind.FIRST_CONTACT_ESCALATION,
        AssigneeKind.TEAM_LEAD,
        TEAM_LEAD,
    )
    assert escalation.due_at == escalated.at

    # The first attempt, however late, settles all three.
    await referral.contact(reached=False)
    attempted = await referral.projected(ProjectionAction.CONTACT_ATTEMPTED)
    assert attempted.close_tasks == [
        TaskClosure(kind=TaskKind.FIRST_CONTACT),
        TaskClosure(kind=TaskKind.FIRST_CONTACT_REMINDER),
        TaskClosure(kind=TaskKind.FIRST_CONTACT_ESCALATION),
    ]
    assert (attempted.contact_method, attempted.reached) == (ContactMethod.PHONE, False)


async def test_a_first_attempt_in_time_means_no_reminder_and_no_escalation(
    start: StartReferral,
) -> None:
    referral = await start()
    await referral.skip(timedelta(days=1))
    await referral.contact(reached=True)
    await referral.skip(POLICY.first_contact_due + POLICY.first_contact_escalation_after)
    attempted = await referral.projected(ProjectionAction.CONTACT_ATTEMPTED)
    assert attempted.reached is True
    assert kinds(attempted.open_tasks) == [TaskKind.WHAT_MATTERS_CONVERSATION]
    assert referral.actions == [
        ProjectionAction.RECEIVED,
        ProjectionAction.ASSIGNED,
        ProjectionAction.CONTACT_ATTEMPTED,
    ]


# --- giving up on contact -----------------------------------------------------------------


async def test_failed_attempts_that_span_fourteen_days_close_as_unable_to_contact(
    start: StartReferral,
) -> None:
    referral = await start()
    await referral.contact(reached=False)
    await referral.skip(timedelta(days=7))
    assert (await referral.contact(reached=False)).status == ReferralStatus.CONTACTING
    await referral.skip(timedelta(days=7))

    state = await referral.contact(reached=False)

    assert (state.status, state.closure_reason) == (
        ReferralStatus.CLOSED,
        ClosureReason.UNABLE_TO_CONTACT,
    )
    closed = await referral.projected(ProjectionAction.CLOSED)
    assert closed.closure_reason == ClosureReason.UNABLE_TO_CONTACT
    assert closed.cancel_open_tasks
    assert closed.person_accepted is False
    assert kinds(closed.messages) == [MessageKind.GP_OUTCOME]
    assert ProjectionAction.CONTACT_RETRY_DUE not in referral.actions
    assert (await referral.result()).closure_reason == ClosureReason.UNABLE_TO_CONTACT


async def bunched_attempts(referral: Referral) -> timedelta:
    """Three failed attempts two hours apart; answers the time since the first."""
    gap = timedelta(hours=2)
    for _ in range(POLICY.contact_attempts_before_giving_up):
        await referral.contact(reached=False)
        await referral.skip(gap)
    return gap * POLICY.contact_attempts_before_giving_up


async def until_the_span_would_be_met(referral: Referral) -> None:
    since_first = await bunched_attempts(referral)
    await referral.skip(POLICY.contact_attempts_min_span - since_first)


async def test_bunched_failed_attempts_leave_it_open_with_a_task_to_try_again(
    start: StartReferral,
) -> None:
    referral = await start()
    since_first = await bunched_attempts(referral)
    await referral.skip(POLICY.contact_attempts_min_span - since_first - timedelta(minutes=1))
    assert ProjectionAction.CONTACT_RETRY_DUE not in referral.actions

    await referral.skip(timedelta(minutes=1))
    retry = await referral.projected(ProjectionAction.CONTACT_RETRY_DUE)
    assert retry.status == ReferralStatus.CONTACTING
    (task,) = retry.open_tasks
    assert (task.kind, task.assignee_id, task.due_at) == (
        TaskKind.CONTACT_RETRY,
        LINK_WORKER.id,
        retry.at,
    )
    await referral.skip(timedelta(days=30))
    assert (await referral.state()).status == ReferralStatus.CONTACTING
    assert ProjectionAction.CLOSED not in referral.actions

    # A failed attempt now spans the period: that one closes the referral.
    state = await referral.contact(reached=False)
    assert state.closure_reason == ClosureReason.UNABLE_TO_CONTACT
    last_attempt = await referral.projected(ProjectionAction.CONTACT_ATTEMPTED)
    assert last_attempt.close_tasks == [TaskClosure(kind=TaskKind.CONTACT_RETRY)]
    closed = await referral.projected(ProjectionAction.CLOSED)
    assert closed.closure_reason == ClosureReason.UNABLE_TO_CONTACT


async def test_reaching_the_person_on_the_retry_carries_on(start: StartReferral) -> None:
    referral = await start()
    await until_the_span_would_be_met(referral)
    await referral.projected(ProjectionAction.CONTACT_RETRY_DUE)

    state = await referral.contact(reached=True)

    assert state.status == ReferralStatus.CONTACTING
    assert (await referral.state()).closure_reason is None
    attempts = [
        p for p in referral.read_model.projections if p.action == ProjectionAction.CONTACT_ATTEMPTED
    ]
    assert attempts[-1].close_tasks == [TaskClosure(kind=TaskKind.CONTACT_RETRY)]
    assert kinds(attempts[-1].open_tasks) == [TaskKind.WHAT_MATTERS_CONVERSATION]


# --- organisations ------------------------------------------------------------------------


async def test_an_unanswered_organisation_is_reminded_then_the_referral_auto_declined(
    start: StartReferral,
) -> None:
    referral = await start()
    await referral.contact(reached=True)
    await referral.assess()
    (walks,) = await referral.connect(WALKS)
    connected = await referral.projected(ProjectionAction.CONNECTED)
    assert kinds(connected.open_tasks) == [TaskKind.RESPOND_TO_REFERRAL]
    assert connected.open_tasks[0].due_at == connected.at + POLICY.organisation_response_due
    assert (connected.chosen_service_ids, connected.suggested_service_ids) == (
        ["svc-walks"],
        SUGGESTED,
    )

    await referral.skip(POLICY.organisation_reminder_after)
    reminded = await referral.projected(ProjectionAction.ORGANISATION_REMINDED)
    assert reminded.service_referral_id == walks
    (reminder,) = reminded.open_tasks
    assert (reminder.kind, reminder.assignee_id, reminder.subject_id) == (
        TaskKind.RESPONSE_REMINDER,
        LEISURE.id,
        str(walks),
    )
    assert [(m.kind, m.recipient_id) for m in reminded.messages] == [
        (MessageKind.ORGANISATION_REMINDER, LEISURE.id)
    ]

    await referral.skip(POLICY.organisation_response_due - POLICY.organisation_reminder_after)
    declined = await referral.projected(ProjectionAction.ORGANISATION_AUTO_DECLINED)
    assert declined.service_referral_id == walks
    assert [s.status for s in declined.service_referrals] == [ServiceReferralStatus.AUTO_DECLINED]
    assert declined.close_tasks == [
        TaskClosure(kind=kind, subject_id=str(walks), status=TaskStatus.CANCELLED)
        for kind in (TaskKind.RESPOND_TO_REFERRAL, TaskKind.RESPONSE_REMINDER)
    ]
    assert [(t.kind, t.assignee_id) for t in declined.open_tasks] == [
        (TaskKind.CHOOSE_SERVICE, LINK_WORKER.id)
    ]
    assert [(m.kind, m.recipient_id, m.subject_id) for m in declined.messages] == [
        (MessageKind.ORGANISATION_AUTO_DECLINED, LEISURE.id, str(walks)),
        (MessageKind.LINK_WORKER_ORGANISATION_DECLINED, LINK_WORKER.id, str(walks)),
    ]
    assert (await referral.state()).status == ReferralStatus.CONNECTING


async def test_an_answer_in_time_means_no_reminder(start: StartReferral) -> None:
    referral = await start()
    await referral.contact(reached=True)
    await referral.assess()
    (walks,) = await referral.connect(WALKS)
    await referral.respond(walks, accepted=False, by=LEISURE)
    await referral.skip(POLICY.organisation_response_due + timedelta(days=1))
    declined = await referral.projected(ProjectionAction.ORGANISATION_DECLINED)
    assert (declined.service_referral_id, declined.reason_code) == (walks, "no_capacity")
    assert ProjectionAction.ORGANISATION_REMINDED not in referral.actions
    assert ProjectionAction.ORGANISATION_AUTO_DECLINED not in referral.actions


# --- follow-up ------------------------------------------------------------------------------


async def test_both_checkpoints_recorded_complete_the_referral(start: StartReferral) -> None:
    referral = await start()
    await referral.taken_up()
    uptake = await referral.projected(ProjectionAction.UPTAKE_CONFIRMED)
    assert uptake.status == ReferralStatus.ENGAGED

    since_uptake = timedelta(0)
    for number, offset in enumerate(POLICY.follow_up_checkpoints, start=1):
        await referral.skip(offset - since_uptake)
        since_uptake = offset
        opened = await referral.projected(ProjectionAction.CHECKPOINT_OPENED)
        assert (opened.checkpoint, opened.status) == (number, ReferralStatus.FOLLOW_UP)
        (task,) = opened.open_tasks
        assert (task.kind, task.subject_id) == (TaskKind.FOLLOW_UP, f"checkpoint-{number}")
        assert task.due_at == uptake.at + offset + POLICY.follow_up_window
        await referral.follow_up(number)
        recorded = await referral.projected(ProjectionAction.FOLLOW_UP_RECORDED)
        assert recorded.checkpoint == number
        assert [(o.checkpoint, o.missed) for o in recorded.outcomes] == [
            (f"follow_up_{number}", False)
        ]

    closed = await referral.projected(ProjectionAction.CLOSED)
    assert (closed.closure_reason, closed.person_accepted) == (ClosureReason.COMPLETED, True)
    assert closed.actor.kind == ActorKind.SYSTEM
    assert [(m.kind, m.recipient_id) for m in closed.messages] == [
        (MessageKind.GP_OUTCOME, PRACTICE_ODS)
    ]
    assert (await referral.result()).closure_reason == ClosureReason.COMPLETED


async def test_one_missed_checkpoint_still_completes(start: StartReferral) -> None:
    referral = await start()
    await referral.taken_up()
    first, second = POLICY.follow_up_checkpoints
    await referral.skip(first)
    await referral.projected(ProjectionAction.CHECKPOINT_OPENED)
    await referral.follow_up(1)

    await referral.skip(second - first + POLICY.follow_up_window)

    missed = await referral.projected(ProjectionAction.CHECKPOINT_MISSED)
    assert missed.checkpoint == 2
    assert missed.close_tasks == [
        TaskClosure(kind=TaskKind.FOLLOW_UP, subject_id="checkpoint-2", status=TaskStatus.CANCELLED)
    ]
    assert [(o.checkpoint, o.missed) for o in missed.outcomes] == [("follow_up_2", True)]
    closed = await referral.projected(ProjectionAction.CLOSED)
    assert closed.closure_reason == ClosureReason.COMPLETED


async def test_both_checkpoints_missed_is_lost_to_follow_up(start: StartReferral) -> None:
    referral = await start()
    await referral.taken_up()

    await referral.skip(POLICY.follow_up_checkpoints[-1] + POLICY.follow_up_window)

    state = await referral.result()
    assert state.closure_reason == ClosureReason.LOST_TO_FOLLOW_UP
    checkpoints = [p.checkpoint for p in referral.read_model.projections if p.checkpoint]
    assert referral.actions[-5:] == [
        ProjectionAction.CHECKPOINT_OPENED,
        ProjectionAction.CHECKPOINT_MISSED,
        ProjectionAction.CHECKPOINT_OPENED,
        ProjectionAction.CHECKPOINT_MISSED,
        ProjectionAction.CLOSED,
    ]
    assert checkpoints == [1, 1, 2, 2]
    closed = referral.read_model.projections[-1]
    assert (closed.closure_reason, closed.person_accepted) == (
        ClosureReason.LOST_TO_FOLLOW_UP,
        True,
    )


# --- endings by hand ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "by", "reached", "assessed"),
    [
        (ClosureReason.DECLINED, LINK_WORKER, True, False),
        (ClosureReason.INELIGIBLE, LINK_WORKER, False, False),
        (ClosureReason.NO_SUITABLE_SERVICE, LINK_WORKER, True, True),
        (ClosureReason.CANCELLED_BY_REFERRER, PRACTICE, False, False),
        (ClosureReason.CONSENT_WITHDRAWN, LINK_WORKER, True, False),
    ],
)
async def test_a_referral_closed_by_hand_says_why_and_tells_the_gp(
    start: StartReferral, reason: ClosureReason, by: Actor, reached: bool, assessed: bool
) -> None:
    referral = await start()
    await referral.contact(reached=reached)
    if assessed:
        await referral.assess()

    state = await referral.close(reason, by=by, note_ids=[41])

    assert (state.status, state.closure_reason) == (ReferralStatus.CLOSED, reason)
    closed = await referral.projected(ProjectionAction.CLOSED)
    assert (closed.actor, closed.closure_reason, closed.person_accepted) == (by, reason, assessed)
    assert closed.cancel_open_tasks
    assert closed.note_ids == [41]
    assert kinds(closed.messages) == [MessageKind.GP_OUTCOME]
    assert (await referral.result()).closure_reason == reason


async def test_consent_withdrawn_withdraws_live_service_referrals_and_tells_each_organisation(
    start: StartReferral,
) -> None:
    referral = await start()
    await referral.contact(reached=True)
    await referral.assess()
    walks, pottery = await referral.connect(WALKS, POTTERY)
    await referral.respond(walks, accepted=True, by=LEISURE)
    await referral.uptake(walks, started=True, by=LEISURE)

    await referral.close(ClosureReason.CONSENT_WITHDRAWN, by=PRACTICE)

    closed = await referral.projected(ProjectionAction.CLOSED)
    # The walks already started stay started: that is what happened.
    assert [(s.id, s.status) for s in closed.service_referrals] == [
        (pottery, ServiceReferralStatus.WITHDRAWN)
    ]
    assert [(m.kind, m.recipient_id, m.subject_id) for m in closed.messages] == [
        (MessageKind.GP_OUTCOME, PRACTICE_ODS, None),
        (MessageKind.ORGANISATION_WITHDRAWN, LEISURE.id, str(walks)),
        (MessageKind.ORGANISATION_WITHDRAWN, ARTS.id, str(pottery)),
    ]


# --- refused steps and notes ------------------------------------------------------------------


async def test_an_illegal_step_is_refused_before_anything_is_projected(
    start: StartReferral,
) -> None:
    referral = await start()
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await referral.assess()
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == ILLEGAL_STEP
    assert "has not been reached yet" in cause.message

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await referral.close(ClosureReason.CANCELLED_BY_REFERRER, by=LEISURE)
    assert "Only the practice or admin" in str(refused.value.cause)

    assert (await referral.state()).status == ReferralStatus.ASSIGNED
    assert referral.actions == [ProjectionAction.RECEIVED, ProjectionAction.ASSIGNED]


async def test_each_step_carries_its_own_note_ids_to_the_projection(
    start: StartReferral,
) -> None:
    referral = await start()
    await referral.contact(reached=False, note_ids=[1])
    await referral.contact(reached=True, note_ids=[2, 3])
    await referral.assess(note_ids=[4])
    assert [(p.action, p.note_ids) for p in referral.read_model.projections] == [
        (ProjectionAction.RECEIVED, []),
        (ProjectionAction.ASSIGNED, []),
        (ProjectionAction.CONTACT_ATTEMPTED, [1]),
        (ProjectionAction.CONTACT_ATTEMPTED, [2, 3]),
        (ProjectionAction.ASSESSED, [4]),
    ]
    assessed = referral.read_model.projections[-1]
    assert (assessed.need_codes, assessed.suggested_service_ids) == (
        ["sp-social-groups"],
        SUGGESTED,
    )


async def test_step_keys_number_the_steps_in_order(start: StartReferral) -> None:
    referral = await start()
    await referral.contact(reached=True)
    assert [p.step_key for p in referral.read_model.projections] == [
        "001-received",
        "002-assigned",
        "003-contact_attempted",
    ]


def test_every_update_name_is_an_update_method_of_the_workflow() -> None:
    """Updates are named after their methods; saved histories and callers use these names."""
    for name in ReferralUpdate:
        assert hasattr(getattr(ReferralWorkflow, name.value, None), "validator"), name


# --- rows never committed -------------------------------------------------------------------


class Remembered(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(params=["terminal", "plain", "json"])
def worker_logging(request: pytest.FixtureRequest) -> Iterator[Remembered]:
    """The log set-ups of ``socialrx worker`` (Rich's handler on a terminal, plain lines
    elsewhere, JSON lines in production), plus one that remembers."""
    remembered = Remembered()
    stream = Terminal() if request.param == "terminal" else io.StringIO()
    with real_logging(remembered, json_lines=request.param == "json", stream=stream):
        yield remembered


async def test_rows_never_committed_end_the_workflow_cleanly_under_the_workers_logging(
    start: StartReferral, worker_logging: Remembered
) -> None:
    read_model = ReadModelStandIn(rows_committed=False)
    referral = await start(read_model)

    state = await referral.result()

    assert (state.status, state.link_worker_id) == (ReferralStatus.RECEIVED, None)
    assert read_model.projections == []
    assert any("referral rows never committed" in m for m in worker_logging.messages)
    history = await referral.handle.fetch_history()
    failed_tasks = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    assert failed_tasks == []


# --- messages to link workers and to the person -----------------------------------------------


def sent(projection: Projection) -> list[tuple[MessageKind, RecipientKind, str, str | None]]:
    return [(m.kind, m.recipient_kind, m.recipient_id, m.subject_id) for m in projection.messages]


async def test_assignment_tells_the_link_worker_and_the_person(start: StartReferral) -> None:
    referral = await start()
    assigned = referral.read_model.projections[1]
    assert sent(assigned) == [
        (MessageKind.LINK_WORKER_ASSIGNED, RecipientKind.LINK_WORKER, LINK_WORKER.id, None),
        # The person is named by the referral's id only; whether they are sent it is decided
        # from what they agreed when it is queued.
        (
            MessageKind.PERSON_LINK_WORKER_WILL_CONTACT,
            RecipientKind.PERSON,
            str(assigned.referral_id),
            None,
        ),
    ]


async def test_a_reassignment_tells_the_new_link_worker(start: StartReferral) -> None:
    referral = await start()
    await referral.handle.execute_update(
        ReferralWorkflow.reassign, Reassignment(actor=LINK_WORKER, link_worker_id="lw-ben")
    )
    reassigned = await referral.projected(ProjectionAction.REASSIGNED)
    assert sent(reassigned) == [
        (MessageKind.LINK_WORKER_ASSIGNED, RecipientKind.LINK_WORKER, "lw-ben", None)
    ]


async def test_an_escalation_tells_the_team_lead_and_the_reminder_tells_no_one(
    start: StartReferral,
) -> None:
    referral = await start()
    await referral.skip(POLICY.first_contact_due)
    reminded = await referral.projected(ProjectionAction.FIRST_CONTACT_OVERDUE)
    assert reminded.messages == []
    await referral.skip(POLICY.first_contact_escalation_after)
    escalated = await referral.projected(ProjectionAction.FIRST_CONTACT_ESCALATED)
    assert sent(escalated) == [
        (MessageKind.LINK_WORKER_ESCALATION, RecipientKind.LINK_WORKER, TEAM_LEAD, None)
    ]


async def test_a_decline_tells_the_link_worker_and_an_acceptance_does_not(
    start: StartReferral,
) -> None:
    referral = await start()
    await referral.contact(reached=True)
    await referral.assess()
    walks, pottery = await referral.connect(WALKS, POTTERY)
    await referral.respond(walks, accepted=True, by=LEISURE)
    accepted = await referral.projected(ProjectionAction.ORGANISATION_ACCEPTED)
    assert accepted.messages == []
    await referral.respond(pottery, accepted=False, by=ARTS)
    declined = await referral.projected(ProjectionAction.ORGANISATION_DECLINED)
    assert sent(declined) == [
        (
            MessageKind.LINK_WORKER_ORGANISATION_DECLINED,
            RecipientKind.LINK_WORKER,
            LINK_WORKER.id,
            str(pottery),
        )
    ]


async def test_the_first_uptake_checks_in_with_the_person_and_checkpoints_tell_the_link_worker(
    start: StartReferral,
) -> None:
    referral = await start()
    await referral.contact(reached=True)
    await referral.assess()
    walks, pottery = await referral.connect(WALKS, POTTERY)
    for service_referral, organisation in ((walks, LEISURE), (pottery, ARTS)):
        await referral.respond(service_referral, accepted=True, by=organisation)
        await referral.uptake(service_referral, started=True, by=organisation)
    first = await referral.projected(ProjectionAction.UPTAKE_CONFIRMED)
    assert sent(first) == [
        (MessageKind.PERSON_UPTAKE_CHECK_IN, RecipientKind.PERSON, str(first.referral_id), None)
    ]
    second = await referral.projected(ProjectionAction.UPTAKE_CONFIRMED)
    assert second.messages == []

    await referral.skip(POLICY.follow_up_checkpoints[0])
    opened = await referral.projected(ProjectionAction.CHECKPOINT_OPENED)
    assert sent(opened) == [
        (
            MessageKind.LINK_WORKER_CHECKPOINT_OPEN,
            RecipientKind.LINK_WORKER,
            LINK_WORKER.id,
            "checkpoint-1",
        )
    ]


# --- saved histories of the contact rule ------------------------------------------------------


@pytest.mark.skipif(not os.environ.get("SOCIALRX_SAVE_HISTORIES"), reason="saves fixtures")
async def test_save_contact_attempt_histories(start: StartReferral) -> None:
    """Saves a referral given up on after bunched attempts; tests/referrals/test_histories.py
    replays it. ``SOCIALRX_SAVE_HISTORIES=<label> .venv/bin/pytest -k save tests/workflows``"""
    referral = await start()
    await until_the_span_would_be_met(referral)
    await referral.projected(ProjectionAction.CONTACT_RETRY_DUE)
    await referral.contact(reached=False)
    await referral.result()
    label = os.environ["SOCIALRX_SAVE_HISTORIES"]
    history = await referral.handle.fetch_history()
    (HISTORIES / f"unable-to-contact-bunched-{label}.json").write_text(history.to_json())
