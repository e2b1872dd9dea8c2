"""The Temporal worker: the referral workflow and the activities that write the read model;
the orphan sweep, retention and the report snapshots' refresh on their schedules; and beside
them the outbox relay that sends what the steps queued."""

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
from activities.report_snapshots import ReportSnapshotActivities
from activities.retention import RecordsActivities
from catalogue.geocode import Geocoder
from core.logs import LOG_HANDLER_MODULES
from core.settings import RecordsSettings, ReportSettings, Settings, get_settings
from domain.enums import (
    ORPHAN_SWEEP_SCHEDULE,
    ORPHAN_SWEEP_WORKFLOW,
    REPORT_SNAPSHOT_SCHEDULE,
    REPORT_SNAPSHOT_WORKFLOW,
)
from domain.measures import DEFAULT_THRESHOLDS, MeasureThresholds
from domain.policy import ReferralPolicy
from socialrx.outbox_cli import build_relay, collect_acknowledgements_forever
from workflows.orphan_sweep import OrphanSweepWorkflow
from workflows.referral import ReferralWorkflow
from workflows.report_snapshots import ReportSnapshotWorkflow
from workflows.retention import RETENTION_WORKFLOW_ID, RetentionWorkflow

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
    records: RecordsSettings | None = None,
    reports: ReportSettings | None = None,
) -> Worker:
    """A worker for referrals and the jobs the worker schedules (the orphan sweep, retention);
    ``geocoder`` is the one the composition root also gives the app (the demo town's when not
    given); ``policy`` the one workflows the orphan sweep restarts get, as the API gives new
    ones."""
    read_model = ReadModelActivities(engine, thresholds)
    matching = MatchingActivities(engine, geocoder)
    orphans = OrphanSweepActivities(engine, client, task_queue, policy or ReferralPolicy())
    retention = RecordsActivities(engine, client, (records or RecordsSettings()).retention)
    snapshots = ReportSnapshotActivities(engine, reports or ReportSettings())
    return referral_worker(
        client,
        task_queue,
        [
            read_model.apply_projection,
            read_model.assign_link_worker,
            matching.suggest_services,
            orphans.sweep_orphans,
            retention.redact_due,
            retention.delete_histories,
            snapshots.refresh_report_snapshots,
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
        workflows=[
            ReferralWorkflow,
            OrphanSweepWorkflow,
            RetentionWorkflow,
            ReportSnapshotWorkflow,
        ],
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
            records=settings.records,
            reports=settings.reports,
        ):
            await schedule_orphan_sweep(client, task_queue, settings.reconciler.interval)
            await ensure_retention_schedule(client, task_queue, settings.records.check_every)
            await schedule_report_snapshots(
                client, task_queue, settings.reports.snapshot_refresh_every
            )
            log.info("worker polling task queue %s", task_queue)
            await asyncio.Event().wait()
    finally:
        for chore in chores:
            chore.cancel()


# The schedule and the workflow runs it starts share one name.
RETENTION_SCHEDULE_ID = RETENTION_WORKFLOW_ID


async def schedule_orphan_sweep(client: Client, task_queue: str, every: timedelta) -> None:
    """Keep the orphan sweep's schedule (``keep_schedule``)."""
    await keep_schedule(client, ORPHAN_SWEEP_SCHEDULE, ORPHAN_SWEEP_WORKFLOW, task_queue, every)


async def ensure_retention_schedule(client: Client, task_queue: str, every: timedelta) -> None:
    """Keep the retention job's schedule (``keep_schedule``)."""
    await keep_schedule(
        client, RETENTION_SCHEDULE_ID, RetentionWorkflow.__name__, task_queue, every
    )


async def schedule_report_snapshots(client: Client, task_queue: str, every: timedelta) -> None:
    """Keep the schedule that refreshes the printable page's snapshots (``keep_schedule``)."""
    await keep_schedule(
        client, REPORT_SNAPSHOT_SCHEDULE, REPORT_SNAPSHOT_WORKFLOW, task_queue, every
    )


async def keep_schedule(
    client: Client, schedule_id: str, workflow_name: str, task_queue: str, every: timedelta
) -> None:
    """A Temporal schedule that starts ``workflow_name`` every ``every``: made by the first
    worker to start, brought in line with this worker's settings by the others. A run still
    going when the next is due is not overlapped: the next one is skipped, not queued."""
    schedule = Schedule(
        # By the workflow's name: the typed ``SomeWorkflow.run`` form made mypy reject every
        # ``get_workflow_handle_for(ReferralWorkflow.run, ...)`` elsewhere (its overloads get
        # inferred once, from the first no-argument run method it meets).
        action=ScheduleActionStartWorkflow(workflow_name, id=schedule_id, task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )

    def same(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=schedule)

    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(schedule_id).update(same)
