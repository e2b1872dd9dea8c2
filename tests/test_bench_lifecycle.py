"""The lifecycle benchmark runs end to end and reports its figures (never judged on them)."""

import re
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from socialrx.cli import app
from tests.support.temporal_env import start_dev_server

# Starts real servers and processes: a system test.
pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
async def temporal_address() -> AsyncIterator[str]:
    env: WorkflowEnvironment = await start_dev_server()
    yield env.client.service_client.config.target_host
    await env.shutdown()


def test_bench_lifecycle_prints_rates_ratio_and_events(temporal_address: str) -> None:
    result = CliRunner().invoke(
        app,
        [
            *("bench", "lifecycle", "-n", "3", "--concurrency", "3", "--rounds", "2"),
            *("--address", temporal_address),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    # Two rounds, the second with the baseline first, each with its own ratio.
    assert re.search(r"ratio of each round: \d+\.\d\d, \d+\.\d\d\n", result.output)
    assert "ratio referral/baseline (sqlite):" in result.output
    assert "median history events per referral:" in result.output
