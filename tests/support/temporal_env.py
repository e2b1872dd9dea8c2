"""Real Temporal servers for tests, from the installed PyPI binaries (never downloaded)."""

from datetime import timedelta

from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.settings import TemporalConnectionSettings
from core.temporal import DATA_CONVERTER, data_converter_for, installed_binary, interceptors_for


async def start_time_skipping() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=installed_binary("temporal-test-server"),
    )


async def start_dev_server() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=installed_binary("temporal"),
        dev_server_log_level="error",
    )


# Skipping weeks fires every timer due in them; on a loaded machine that can outlast the
# client's default RPC deadline, which then fails the test though the server is fine.
SKIP_DEADLINE = timedelta(minutes=2)


async def skip_time(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Move the time-skipping server's clock on by ``duration``, waiting as long as it takes."""
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    await env.client.test_service.unlock_time_skipping_with_sleep(request, timeout=SKIP_DEADLINE)


def configured_as(
    env: WorkflowEnvironment, temporal: TemporalConnectionSettings
) -> WorkflowEnvironment:
    """The same server, through a client that ``core.temporal.connect`` would make with these
    settings: payload encryption and bounded calls. ``env.client`` still sees the raw payloads."""
    client = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=data_converter_for(temporal),
        interceptors=interceptors_for(temporal),
    )
    return WorkflowEnvironment.from_client(client)
