"""A running system: real Temporal (time-skipping or dev server), real worker, real API,
real database, with the demo team and a small directory loaded."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

import httpx
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from catalogue.demo import load_demo_directory
from core.settings import Settings
from socialrx.demo import load_demo_people
from tests.support.driver import Driver
from tests.support.event_loop_db import guarded, watching
from tests.support.history_text import history_text, personal_details_in


def load_directory_and_people(engine: Engine) -> None:
    with Session(engine) as session:
        load_demo_people(session)
        load_demo_directory(session)


@asynccontextmanager
async def running_system(
    env: WorkflowEnvironment,
    engine: Engine,
    settings: Settings,
    cache_workflows: bool,
    tracer_provider: TracerProvider | None = None,
) -> AsyncIterator[Driver]:
    load_directory_and_people(engine)
    task_queue = f"referrals-{uuid4()}"
    app = create_app(
        settings.model_copy(update={"task_queue": task_queue}),
        env.client,
        tracer_provider=tracer_provider,
    )
    # Every request of every test fails it if it queries the database on the event loop.
    transport = httpx.ASGITransport(app=guarded(app))
    with watching(engine) as on_event_loop:
        async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
            driver = Driver(
                http=http,
                env=env,
                engine=engine,
                task_queue=task_queue,
                cache_workflows=cache_workflows,
            )
            await driver.start_worker()
            try:
                yield driver
                # Every history this test produced must be free of personal details.
                for referral_id, history in (await driver.histories()).items():
                    leaked = personal_details_in(history_text(history), driver.personal_details())
                    assert not leaked, f"history of {referral_id} holds personal data: {leaked}"
            finally:
                await driver.terminate_open_referrals()
                if driver.worker_running:
                    await driver.stop_worker()
    assert not on_event_loop.violations, "database work on the event loop:\n" + "\n".join(
        on_event_loop.violations
    )
    # Every connection is back in the pool: one still checked out keeps its transaction, and
    # its locks, until the process ends.
    assert isinstance(engine.pool, QueuePool)
    assert engine.pool.checkedout() == 0, "a connection was not given back to the pool"
