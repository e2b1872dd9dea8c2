"""A running system per test (tests/support/system.py): real time-skipping Temporal server,
real worker, real API, real database, with the demo team and a small directory loaded."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain.policy import ReferralPolicy
from tests.support.driver import Driver
from tests.support.system import running_system


@pytest.fixture
async def driver(
    time_skipping_env: WorkflowEnvironment, engine: Engine, settings: Settings
) -> AsyncIterator[Driver]:
    async with running_system(time_skipping_env, engine, settings, False) as driver:
        yield driver


# Deadlines compressed to seconds, for tests that run on the real dev server's clock.
COMPRESSED = ReferralPolicy(
    first_contact_due=timedelta(seconds=30),
    first_contact_in_working_days=False,
    organisation_reminder_after=timedelta(seconds=30),
    organisation_response_due=timedelta(seconds=60),
    follow_up_checkpoints=[timedelta(seconds=2), timedelta(seconds=4)],
    follow_up_window=timedelta(seconds=1),
)


@pytest.fixture
async def dev_driver(
    dev_server_env: WorkflowEnvironment, engine: Engine, settings: Settings
) -> AsyncIterator[Driver]:
    compressed = settings.model_copy(update={"policy": COMPRESSED})
    async with running_system(dev_server_env, engine, compressed, True) as driver:
        yield driver
