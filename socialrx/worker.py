"""The Temporal worker: the referral workflow and the activities that write the read model,
and beside them the outbox relay that sends what the steps queued."""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.matching import MatchingActivities
from activities.read_model import ReadModelActivities
from core.settings import Settings, get_settings
from domain.measures import DEFAULT_THRESHOLDS, MeasureThresholds
from socialrx.outbox_cli import build_relay
from workflows.referral import ReferralWorkflow

log = logging.getLogger(__name__)


def build_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    executor: ThreadPoolExecutor | None = None,
    max_cached_workflows: int = 1000,
    thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
) -> Worker:
    read_model = ReadModelActivities(engine, thresholds)
    matching = MatchingActivities(engine)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ReferralWorkflow],
        activities=[
            read_model.apply_projection,
            read_model.assign_link_worker,
            matching.suggest_services,
        ],
        activity_executor=executor or ThreadPoolExecutor(max_workers=8),
        max_cached_workflows=max_cached_workflows,
    )


async def run_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
    settings: Settings | None = None,
) -> None:
    relaying = asyncio.create_task(build_relay(settings or get_settings(), engine).run_forever())
    try:
        async with build_worker(client, task_queue, engine, thresholds=thresholds):
            log.info("worker polling task queue %s", task_queue)
            await asyncio.Event().wait()
    finally:
        relaying.cancel()
