"""The Temporal worker: the referral workflow and the activities that write the read model."""

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
from activities.outbox import deliver_pending
from activities.read_model import ReadModelActivities
from activities.senders import LogSender, MessageSender
from catalogue.geocode import Geocoder
from core.logs import LOG_HANDLER_MODULES
from domain.measures import DEFAULT_THRESHOLDS, MeasureThresholds
from workflows.referral import ReferralWorkflow

log = logging.getLogger(__name__)
OUTBOX_RETRY_SECONDS = 30.0
# Workflow code that logs runs our log handler inside the sandbox: its modules come from the
# host (see core.logs), so a log call can never fail the workflow task.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*LOG_HANDLER_MODULES)
)


def build_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    sender: MessageSender | None = None,
    executor: ThreadPoolExecutor | None = None,
    max_cached_workflows: int = 1000,
    thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
    geocoder: Geocoder | None = None,
) -> Worker:
    """A worker for referrals; ``geocoder`` is the one the composition root also gives the app
    (the demo town's when not given)."""
    read_model = ReadModelActivities(engine, sender, thresholds)
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


async def retry_outbox_forever(engine: Engine, sender: MessageSender) -> None:
    """Steps send their own mail; this picks up what a failed send left behind."""
    while True:
        await asyncio.sleep(OUTBOX_RETRY_SECONDS)
        try:
            await asyncio.to_thread(deliver_pending, engine, sender)
        except Exception:
            log.exception("outbox retry failed; trying again in %.0fs", OUTBOX_RETRY_SECONDS)


async def run_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
    geocoder: Geocoder | None = None,
) -> None:
    sender = LogSender()
    retry = asyncio.create_task(retry_outbox_forever(engine, sender))
    try:
        async with build_worker(
            client, task_queue, engine, sender, thresholds=thresholds, geocoder=geocoder
        ):
            log.info("worker polling task queue %s", task_queue)
            await asyncio.Event().wait()
    finally:
        retry.cancel()
