"""The worker's retention schedule on a real Temporal dev server: the schedule is created once
and kept up to date, and its workflow redacts everyone due and deletes their referrals'
ended workflow histories."""

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import workflow
from temporalio.client import Client, ScheduleIntervalSpec
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from core.settings import RecordsSettings
from domain.messages import workflow_id_for
from domain.tables import Person
from socialrx.worker import RETENTION_SCHEDULE_ID, build_worker, ensure_retention_schedule
from tests.support.people_records import KnownPeople
from workflows.retention import RetentionWorkflow


@workflow.defn(name="ReferralStandIn")
class ReferralStandIn:
    """Leaves an ended history under a referral's workflow id, as a closed referral does."""

    @workflow.run
    async def run(self) -> None:
        return None


async def history_exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def test_the_retention_workflow_redacts_and_deletes_ended_histories(
    dev_server_env: WorkflowEnvironment, known_people: KnownPeople, engine: Engine
) -> None:
    client = dev_server_env.client
    queue = f"retention-{uuid.uuid4()}"
    zofia_history = workflow_id_for(known_people.zofia[0])
    async with Worker(
        client,
        task_queue=queue,
        workflows=[ReferralStandIn],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        await client.execute_workflow(ReferralStandIn.run, id=zofia_history, task_queue=queue)
    assert await history_exists(client, zofia_history)
    # The known service closed its referrals in 2026; a day's retention makes them all due.
    records = RecordsSettings(retention=timedelta(days=1))
    async with build_worker(client, queue, engine, records=records):
        redacted = await client.execute_workflow(
            RetentionWorkflow.run, id=f"retention-{uuid.uuid4()}", task_queue=queue
        )
    assert redacted >= 12
    with Session(engine) as session:
        person = session.get(Person, known_people.zofia[0])
        assert person is not None and person.redacted_at is not None
        open_person = session.get(Person, known_people.open_referral)
        assert open_person is not None and open_person.redacted_at is None
    # The server deletes asynchronously: the dev server took about 30 s.
    for _ in range(180):
        if not await history_exists(client, zofia_history):
            break
        await asyncio.sleep(0.5)
    assert not await history_exists(client, zofia_history)


async def test_the_schedule_is_created_once_and_follows_the_settings(
    dev_server_env: WorkflowEnvironment,
) -> None:
    client = dev_server_env.client
    queue = f"retention-{uuid.uuid4()}"
    await ensure_retention_schedule(client, queue, timedelta(days=1))
    try:
        # A second worker starting, with another interval: the one schedule is updated.
        await ensure_retention_schedule(client, queue, timedelta(hours=6))
        described = await client.get_schedule_handle(RETENTION_SCHEDULE_ID).describe()
        assert described.schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(hours=6))]
        action = described.schedule.action
        assert getattr(action, "workflow", None) == "RetentionWorkflow"
        assert getattr(action, "task_queue", None) == queue
    finally:
        await client.get_schedule_handle(RETENTION_SCHEDULE_ID).delete()


def test_the_retention_default_is_eight_years() -> None:
    assert RecordsSettings().retention >= timedelta(days=8 * 365)
    with pytest.raises(ValueError):
        RecordsSettings(retention=timedelta(0))
