"""A running system per test: real time-skipping Temporal server, real worker, real API,
real database, with the demo team and a small directory loaded."""

from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from catalogue.tables import Organization, Service
from socialrx.demo import load_demo_people
from socialrx.settings import Settings
from tests.history_text import history_text, personal_details_in
from tests.referrals.driver import Driver
from tests.temporal_env import start_time_skipping

DIRECTORY = [
    Organization(id="org-walkers", name="Millbrook Walkers"),
    Organization(id="org-clay", name="Clay Studio Collective"),
    Organization(id="org-closed", name="Old Hall Trust"),
    Service(id="svc-health-walks", organization_id="org-walkers", name="Health walks"),
    Service(id="svc-pottery", organization_id="org-clay", name="Pottery for wellbeing"),
    Service(id="svc-old-hall", organization_id="org-closed", name="Tea dances", status="inactive"),
]


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_time_skipping()
    yield env
    await env.shutdown()


def load_directory_and_people(engine: Engine) -> None:
    with Session(engine) as session:
        load_demo_people(session)
        for row in DIRECTORY:
            session.merge(row.model_copy())
        session.commit()


@pytest.fixture
async def driver(
    time_skipping_env: WorkflowEnvironment, engine: Engine, settings: Settings
) -> AsyncIterator[Driver]:
    load_directory_and_people(engine)
    task_queue = f"referrals-{uuid4()}"
    app = create_app(
        settings.model_copy(update={"task_queue": task_queue}), time_skipping_env.client
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
        driver = Driver(http=http, env=time_skipping_env, engine=engine, task_queue=task_queue)
        await driver.start_worker()
        try:
            yield driver
            # Every history this test produced must be free of personal details.
            for referral_id, history in (await driver.histories()).items():
                leaked = personal_details_in(history_text(history), driver.personal_details())
                assert not leaked, f"history of {referral_id} holds personal data: {leaked}"
        finally:
            await driver.stop_worker()
