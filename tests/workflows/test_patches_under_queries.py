"""Histories recorded while the referral is queried replay: the fault suite's finding.

When the SDK answers a query while a local activity's result waits to be handed to the
workflow, it records the activity's marker in that workflow task and the code after it in the
next. On replay the activity resolves one task early; a ``workflow.patched`` asked first just
after it then reads as unpatched, and the patch marker met later is a nondeterminism error
(``Non-deprecated patch marker encountered``). The referral asks once, in ``__init__``
(``PATCHES_DECIDED_AT_START``), so its marker is always the first task's first command.

How it goes wrong is shown on a workflow of three lines, queried from its start with an
interceptor that keeps each query's activation busy for a few tens of milliseconds, so that a
fast local activity's result lands while a query is answered: a good share of its histories
fail to replay. If that test starts failing, the SDK has fixed the fault, and the workaround
may go. The referral, driven the same way, records its one patch marker as its first task's
first command, where no query can move it, and its histories replay.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowHistory, WorkflowQueryFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    HandleQueryInput,
    Interceptor,
    Replayer,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from core.temporal import DATA_CONVERTER
from domain.enums import ProjectionAction
from domain.messages import ReferralInput, ReferralState
from socialrx.worker import WORKFLOW_RUNNER
from tests.support.read_model_stand_in import POLICY, PRACTICE_ODS, ReadModelStandIn
from workflows.referral import PATCHES_DECIDED_AT_START, ReferralWorkflow

pytestmark = pytest.mark.workflow

REFERRALS = 20
QUERY_WORK = 1_000_000


@activity.defn
async def quick() -> int:
    return 1


@workflow.defn(sandboxed=False)
class PatchAfterLocalActivity:
    def __init__(self) -> None:
        self.patched: bool | None = None

    @workflow.run
    async def run(self) -> None:
        await workflow.execute_local_activity(quick, start_to_close_timeout=timedelta(seconds=5))
        self.patched = workflow.patched("after-a-local-activity")

    @workflow.query
    def seen(self) -> bool | None:
        return self.patched


class SlowQueries(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _SlowQueryInbound


class _SlowQueryInbound(WorkflowInboundInterceptor):
    def handle_query(self, input: HandleQueryInput) -> Any:
        # Busy, not asleep: the activation stays open while an activity's result arrives.
        sum(range(QUERY_WORK))
        return super().handle_query(input)


@pytest.fixture(scope="module")
async def queried_histories(
    dev_server_env: WorkflowEnvironment,
) -> AsyncIterator[list[WorkflowHistory]]:
    client = dev_server_env.client
    read_model = ReadModelStandIn()
    task_queue = f"patches-under-queries-{uuid4()}"
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[ReferralWorkflow],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[
            read_model.apply_projection,
            read_model.assign_link_worker,
            read_model.suggest_services,
        ],
        interceptors=[SlowQueries()],
    )
    handles: list[WorkflowHandle[ReferralWorkflow, ReferralState]] = []

    async def query_until_assigned(handle: WorkflowHandle[ReferralWorkflow, ReferralState]) -> None:
        while (await handle.query(ReferralWorkflow.state)).link_worker_id is None:
            pass

    async with worker:
        querying = []
        for _ in range(REFERRALS):
            referral_id = uuid4()
            handle = await client.start_workflow(
                ReferralWorkflow.run,
                ReferralInput(referral_id=referral_id, practice_ods=PRACTICE_ODS, policy=POLICY),
                id=f"referral-{referral_id}",
                task_queue=task_queue,
            )
            handles.append(handle)
            # Queried from its start, so a query rides along with its first workflow task.
            querying.append(asyncio.create_task(query_until_assigned(handle)))
        await asyncio.wait_for(asyncio.gather(*querying), 60)
        # Every referral has projected its assignment (the step after the patch decision).
        while (
            sum(p.action == ProjectionAction.ASSIGNED for p in read_model.projections) < REFERRALS
        ):
            await asyncio.sleep(0.05)
        histories = [await handle.fetch_history() for handle in handles]
        for handle in handles:
            await handle.terminate("test over")
    yield histories


async def test_the_sdk_moves_a_patch_after_a_local_activity_when_queried(
    dev_server_env: WorkflowEnvironment,
) -> None:
    client = dev_server_env.client
    task_queue = f"patch-after-local-activity-{uuid4()}"
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[PatchAfterLocalActivity],
        activities=[quick],
        interceptors=[SlowQueries()],
    )
    async with worker:

        async def run_queried() -> WorkflowHistory:
            handle = await client.start_workflow(
                PatchAfterLocalActivity.run, id=f"patch-{uuid4()}", task_queue=task_queue
            )
            try:
                while await handle.query(PatchAfterLocalActivity.seen) is None:
                    pass
            except WorkflowQueryFailedError:
                pass  # it ended, and a query of its history met the fault: seen below
            await handle.result()
            return await handle.fetch_history()

        histories = await asyncio.wait_for(
            asyncio.gather(*(run_queried() for _ in range(REFERRALS))), 60
        )
    replayer = Replayer(workflows=[PatchAfterLocalActivity])
    results = [await replayer.replay_workflow(h, raise_on_replay_failure=False) for h in histories]
    failures = [str(r.replay_failure) for r in results if r.replay_failure is not None]
    assert failures, "every history replayed: has the SDK fixed the fault? See the docstring."
    assert all("Non-deprecated patch marker encountered" in failure for failure in failures)


async def test_histories_recorded_under_queries_replay(
    queried_histories: list[WorkflowHistory],
) -> None:
    replayer = Replayer(
        workflows=[ReferralWorkflow], data_converter=DATA_CONVERTER, workflow_runner=WORKFLOW_RUNNER
    )
    failures = []
    for history in queried_histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures.append(f"{history.workflow_id}: {result.replay_failure}")
    assert failures == []


def test_the_one_patch_marker_is_the_first_tasks_first_command(
    queried_histories: list[WorkflowHistory],
) -> None:
    for history in queried_histories:
        events = list(history.events)
        first_completed = next(
            index
            for index, event in enumerate(events)
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        )
        markers = [
            (index, event.marker_recorded_event_attributes)
            for index, event in enumerate(events)
            if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and event.marker_recorded_event_attributes.marker_name == "core_patch"
        ]
        assert len(markers) == 1, history.workflow_id
        index, marker = markers[0]
        assert index == first_completed + 1, history.workflow_id
        patch_id = DATA_CONVERTER.payload_converter.from_payloads(
            marker.details["patch-data"].payloads
        )[0]["id"]
        assert patch_id == PATCHES_DECIDED_AT_START
