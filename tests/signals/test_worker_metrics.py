"""The worker serves the Temporal SDK's metrics for Prometheus on the configured address,
and nothing when none is configured (as in tests)."""

import asyncio
import socket

import httpx
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.testing import WorkflowEnvironment

from core.settings import MetricsSettings, Settings
from core.temporal import connect, runtime_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_address_serves_no_sdk_metrics() -> None:
    assert runtime_for(MetricsSettings()) is None


async def test_the_sdk_metrics_are_served_on_the_configured_address(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    address = f"127.0.0.1:{free_port()}"
    runtime = runtime_for(MetricsSettings(worker_address=address))
    assert runtime is not None
    target = time_skipping_env.client.service_client.config.target_host
    client = await connect(settings.model_copy(update={"temporal_address": target}), runtime)
    await client.workflow_service.get_system_info(GetSystemInfoRequest())  # one call to count

    async with httpx.AsyncClient() as http:
        for _ in range(50):  # the SDK publishes its counters on its own schedule
            text = (await http.get(f"http://{address}/metrics")).text
            if "temporal_request" in text:
                break
            await asyncio.sleep(0.1)
    assert "temporal_request" in text
