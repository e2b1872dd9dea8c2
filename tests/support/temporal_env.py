"""Real Temporal servers for tests, from the installed PyPI binaries (never downloaded)."""

from temporalio.testing import WorkflowEnvironment

from core.temporal import DATA_CONVERTER, installed_binary


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
