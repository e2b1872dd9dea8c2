"""The Temporal worker: the referral workflow and the activities that write the read model,
and beside them the outbox relay that sends what the steps queued."""

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.matching import MatchingActivities
from activities.read_model import ReadModelActivities
from catalogue.geocode import Geocoder
from core.logs import LOG_HANDLER_MODULES
from core.settings import Settings, get_settings
from domain.measures import DEFAULT_THRESHOLDS, MeasureThresholds
from socialrx.outbox_cli import build_relay, collect_acknowledgements_forever
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
) -> Worker:
    """A worker for referrals; ``geocoder`` is the one the composition root also gives the app
    (the demo town's when not given)."""
    read_model = ReadModelActivities(engine, thresholds)
    matching = MatchingActivities(engine, geocoder)
    return referral_worker(
        client,
        task_queue,
        [read_model.apply_projection, read_model.assign_link_worker, matching.suggest_services],
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
        workflows=[ReferralWorkflow],
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
            client, task_queue, engine, thresholds=thresholds, geocoder=geocoder
        ):
            log.info("worker polling task queue %s", task_queue)
            await asyncio.Event().wait()
    finally:
        for chore in chores:
            chore.cancel()
