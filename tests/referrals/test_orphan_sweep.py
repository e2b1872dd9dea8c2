"""The orphan sweep finds referrals still ``received`` long after the intake wait with no
workflow running, for either cause: the workflow never started, or it ended before the
referral reached closure. It starts the workflow again when the rows are complete, or closes
the referral and frees the person's NHS number when they are not; an admin gets a task."""

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from sqlmodel import Session, col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    WorkflowExecutionStatus,
)
from temporalio.testing import WorkflowEnvironment

from activities.orphans import OrphanSweepResult
from api.intake import _write
from api.schemas import ReferralSubmission
from domain.enums import (
    ADMINS,
    ORPHAN_SWEEP_SCHEDULE,
    ORPHAN_SWEEP_WORKFLOW,
    AssigneeKind,
    ReferralStatus,
    TaskKind,
)
from domain.messages import ReferralInput, workflow_id_for
from domain.tables import Consent, Person, Referral, Task, utcnow
from socialrx.worker import schedule_orphan_sweep
from tests.support.driver import Driver, person
from tests.support.real_logging import real_logging
from workflows.orphan_sweep import OrphanSweepWorkflow
from workflows.referral import ReferralWorkflow

LONG_AGO = timedelta(days=1)


def orphan(driver: Driver, complete: bool = True, age: timedelta = LONG_AGO) -> UUID:
    """A referral's rows as the API writes them, made ``age`` ago, with no workflow."""
    body = person()
    referral_id = uuid4()
    with Session(driver.engine) as session:
        _write(session, referral_id, ReferralSubmission.model_validate(body))
        referral = session.get(Referral, referral_id)
        assert referral is not None
        referral.created_at = utcnow() - age
        if not complete:
            consent = session.get(Consent, referral_id)
            session.delete(consent)
        session.commit()
    driver.submitted[referral_id] = body
    return referral_id


async def sweep(driver: Driver) -> OrphanSweepResult:
    """One run of the sweep's workflow, on the driver's worker; its workflow tasks (its log
    call among them) never fail."""
    handle = await driver.env.client.start_workflow(
        OrphanSweepWorkflow.run, id=f"orphan-sweep-{uuid4()}", task_queue=driver.task_queue
    )
    result = await handle.result()
    history = await handle.fetch_history()
    failed = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    assert failed == []
    return result


@pytest.fixture
def worker_logging() -> Iterator[None]:
    """The log set-up of ``socialrx worker``: the sweep's workflow logs through it."""
    with real_logging():
        yield


def admin_tasks(driver: Driver, referral_id: UUID) -> list[tuple[str, str, str]]:
    with Session(driver.engine) as session:
        tasks = session.exec(
            select(Task)
            .where(Task.referral_id == referral_id, Task.kind == TaskKind.ORPHANED_REFERRAL)
            .order_by(col(Task.id))
        ).all()
        return [(t.step_key, t.assignee_kind, t.assignee_id) for t in tasks]


# The sweep's tests run on the dev server: on the session's shared time-skipping server a
# sweep left the later tests' time skipping timing out (RPC "Timeout expired").
async def test_a_referral_whose_workflow_never_started_gets_one(
    dev_driver: Driver, worker_logging: None
) -> None:
    driver = dev_driver
    referral_id = orphan(driver)

    result = await sweep(driver)

    assert result == OrphanSweepResult(restarted=[referral_id])
    await driver.wait_for_status(referral_id, "assigned")
    assert admin_tasks(driver, referral_id) == [
        ("orphan-sweep:restarted", AssigneeKind.ADMIN, ADMINS)
    ]
    assert await sweep(driver) == OrphanSweepResult(), "a second sweep finds nothing"


async def test_a_referral_whose_workflow_ended_early_gets_a_new_run(dev_driver: Driver) -> None:
    driver = dev_driver
    referral_id = orphan(driver)
    # A run that ended before it took the referral anywhere (here: terminated before any
    # worker picked it up).
    first_run = await driver.env.client.start_workflow(
        ReferralWorkflow.run,
        ReferralInput(referral_id=referral_id, practice_ods="A81001"),
        id=workflow_id_for(referral_id),
        task_queue=f"nobody-polls-{uuid4()}",
    )
    await first_run.terminate(reason="stands for a run that ended early")

    result = await sweep(driver)

    assert result == OrphanSweepResult(restarted=[referral_id])
    await driver.wait_for_status(referral_id, "assigned")
    latest = await driver.env.client.get_workflow_handle(workflow_id_for(referral_id)).describe()
    assert latest.run_id != first_run.result_run_id
    assert latest.status == WorkflowExecutionStatus.RUNNING
    assert [key for key, *_ in admin_tasks(driver, referral_id)] == ["orphan-sweep:restarted"]


async def test_a_referral_with_incomplete_rows_is_closed_and_the_person_freed(
    dev_driver: Driver,
) -> None:
    driver = dev_driver
    referral_id = orphan(driver, complete=False)

    result = await sweep(driver)

    assert result == OrphanSweepResult(closed=[referral_id])
    del driver.submitted[referral_id]  # it has no workflow to clean up after the test
    with Session(driver.engine) as session:
        referral = session.get(Referral, referral_id)
        found = session.get(Person, referral_id)
        assert referral is not None and found is not None
        assert referral.status == ReferralStatus.CLOSED
        assert found.open_nhs_number is None
        nhs_number = found.nhs_number
    assert admin_tasks(driver, referral_id) == [("orphan-sweep:closed", AssigneeKind.ADMIN, ADMINS)]
    # The person is no longer blocked: a new referral for them is taken.
    await driver.submit(nhs_number=nhs_number)


async def test_healthy_and_recent_referrals_are_left_alone(dev_driver: Driver) -> None:
    driver = dev_driver
    healthy = await driver.submit()  # assigned, its workflow running
    with Session(driver.engine) as session:
        referral = session.get(Referral, healthy)
        assert referral is not None
        referral.status = ReferralStatus.RECEIVED  # as if still waiting, but it is running
        referral.created_at = utcnow() - LONG_AGO
        session.add(referral)
        session.commit()
    recent = orphan(driver, age=timedelta(seconds=1))  # its API may be saving it right now

    assert await sweep(driver) == OrphanSweepResult()
    assert admin_tasks(driver, healthy) == admin_tasks(driver, recent) == []
    del driver.submitted[recent]  # it has no workflow to clean up after the test


async def test_workers_keep_one_sweep_schedule_with_the_latest_interval(
    dev_server_env: WorkflowEnvironment,
) -> None:
    client = dev_server_env.client
    task_queue = f"sweep-{uuid4()}"
    try:
        await schedule_orphan_sweep(client, task_queue, timedelta(minutes=10))
        # A second worker starting, configured otherwise: no second schedule, no error.
        await schedule_orphan_sweep(client, task_queue, timedelta(minutes=5))

        described = await client.get_schedule_handle(ORPHAN_SWEEP_SCHEDULE).describe()
    finally:
        await client.get_schedule_handle(ORPHAN_SWEEP_SCHEDULE).delete()
    assert described.schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(minutes=5))]
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue) == (ORPHAN_SWEEP_WORKFLOW, task_queue)
