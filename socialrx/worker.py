"""The Temporal worker: the referral workflow and the activities that write the read model,
the orphan sweep on its schedule, and beside them the outbox relay that sends what the steps
queued."""

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.matching import MatchingActivities
from activities.orphans import OrphanSweepActivities
from activities.read_model import ReadModelActivities
from catalogue.geocode import Geocoder
from core.logs import LOG_HANDLER_MODULES
from core.settings import Settings, get_settings
from domain.enums import ORPHAN_SWEEP_SCHEDULE
from domain.measures import DEFAULT_THRESHOLDS, MeasureThresholds
from domain.policy import ReferralPolicy
from socialrx.outbox_cli import build_relay, collect_acknowledgements_forever
from workflows.orphan_sweep import OrphanSweepWorkflow
from workflows.referral import ReferralWorkflow

log = logging.getLogger(__name__)
# Workflow code that logs runs our log handler inside the sandbox: its modules come from the
# host (see core.logs), so a log call can never fail the workflow task.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*LOG_HANDLER_MODULES)
)


def build_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    executor: ThreadPoolExecutor | None = None,
    max_cached_workflows: int = 1000,
    thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
    geocoder: Geocoder | None = None,
    policy: ReferralPolicy | None = None,
) -> Worker:
    """A worker for referrals; ``geocoder`` is the one the composition root also gives the app
    (the demo town's when not given); ``policy`` the one workflows the orphan sweep restarts
    get, as the API gives new ones."""
    read_model = ReadModelActivities(engine, thresholds)
    matching = MatchingActivities(engine, geocoder)
    orphans = OrphanSweepActivities(engine, client, task_queue, policy or ReferralPolicy())
    return referral_worker(
        client,
        task_queue,
        [
            read_model.apply_projection,
            read_model.assign_link_worker,
            matching.suggest_services,
            orphans.sweep_orphans,
        ],
        executor or ThreadPoolExecutor(max_workers=8),
        max_cached_workflows,
    )


def referral_worker(
    client: Client,
    task_queue: str,
    activities: Sequence[Callable[..., Any]],
    executor: ThreadPoolExecutor | None = None,
    max_cached_workflows: int = 1000,
) -> Worker:
    """The referral workflow, sandboxed as in production, with these activities (the real
    ones, or stand-ins registered under the same names)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ReferralWorkflow, OrphanSweepWorkflow],
        workflow_runner=WORKFLOW_RUNNER,
        activities=activities,
        activity_executor=executor,
        max_cached_workflows=max_cached_workflows,
    )


async def run_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
    geocoder: Geocoder | None = None,
    settings: Settings | None = None,
) -> None:
    settings = settings or get_settings()
    # Beside the workflows: the relay that sends what steps queued, and the MESH inbox reader.
    chores = [
        asyncio.create_task(build_relay(settings, engine).run_forever()),
        asyncio.create_task(collect_acknowledgements_forever(settings, engine)),
    ]
    try:
        async with build_worker(
            client,
            task_queue,
            engine,
            thresholds=thresholds,
            geocoder=geocoder,
            policy=settings.policy,
        ):
            await schedule_orphan_sweep(client, task_queue, settings.reconciler.interval)
            log.info("worker polling task queue %s", task_queue)
            await asyncio.Event().wait()
    finally:
        for chore in chores:
            chore.cancel()


async def schedule_orphan_sweep(client: Client, task_queue: str, every: timedelta) -> None:
    """Keep the orphan sweep's schedule: made by the first worker to start, brought in line
    with this worker's settings by the others (a sweep still running is not overlapped)."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            OrphanSweepWorkflow.run, id=ORPHAN_SWEEP_SCHEDULE, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(ORPHAN_SWEEP_SCHEDULE, schedule)
    except ScheduleAlreadyRunningError:

        def same(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(ORPHAN_SWEEP_SCHEDULE).update(same)
