"""A step when no worker runs answers 503 with Retry-After within the step timeout, instead of
waiting for ever; the update stays on the server and is taken when a worker starts."""

import time
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings, TemporalConnectionSettings
from tests.support.driver import LINK_WORKER
from tests.support.system import running_system
from tests.support.temporal_env import configured_as

STEP_TIMEOUT = timedelta(seconds=2)
RPC_TIMEOUT = timedelta(seconds=2)


async def test_a_step_with_no_worker_answers_503_within_the_step_timeout(
    time_skipping_env: WorkflowEnvironment, engine: Engine, settings: Settings
) -> None:
    bounded = configured_as(
        time_skipping_env,
        TemporalConnectionSettings(step_timeout=STEP_TIMEOUT, rpc_timeout=RPC_TIMEOUT),
    )
    async with running_system(bounded, engine, settings, False) as driver:
        referral_id = await driver.submit()
        await driver.stop_worker()

        started = time.monotonic()
        response = await driver.http.post(
            f"/referrals/{referral_id}/contact-attempts",
            json={"method": "phone", "reached": True},
            headers=await driver.headers_for(LINK_WORKER),
        )
        waited = time.monotonic() - started

        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"]
        assert "look at the referral again" in response.json()["detail"]
        assert STEP_TIMEOUT.total_seconds() <= waited < STEP_TIMEOUT.total_seconds() + 5
        # Reading the referral asks the workflow (a query, which waits for a worker): it
        # gives up after the RPC timeout and shows what the database holds.
        started = time.monotonic()
        detail = await driver.detail(referral_id)
        assert detail["status"] == "assigned"
        assert time.monotonic() - started < RPC_TIMEOUT.total_seconds() + 5
        # As the answer says: the step was not lost, a worker that starts takes it.
        await driver.start_worker()
        await driver.wait_for_status(referral_id, "contacting")
