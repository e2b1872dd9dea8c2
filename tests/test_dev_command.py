"""``socialrx dev`` as a real process, against a Temporal server that is already running."""

import os
import re
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.dev_processes import children_of, dev_environment, is_alive, running_dev
from tests.support.temporal_env import start_dev_server

# Starts real servers and processes: a system test.
pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
async def temporal_address() -> AsyncIterator[str]:
    env: WorkflowEnvironment = await start_dev_server()
    yield env.client.service_client.config.target_host
    await env.shutdown()


def test_dev_uses_the_given_temporal_server_and_sigterm_stops_all(
    tmp_path: Path, temporal_address: str
) -> None:
    env = dev_environment(tmp_path / "var", {"SOCIALRX_TEMPORAL_ADDRESS": temporal_address})
    with running_dev(tmp_path, env) as dev:
        dev.wait_until_serving()
        children = children_of(dev.process.pid)
        commands = sorted(line.rsplit(" ", 1)[-1] for line in children.values())
        assert commands == ["api", "worker"], children
        assert temporal_address in dev.log()
        # The web pages are what people open: their address comes first in the welcome.
        welcome = dev.log().split("socialrx is running", 1)[1]
        addresses = re.findall(r"https?://\S+", welcome)
        assert addresses and addresses[0].endswith(":" + env["SOCIALRX_API_PORT"] + "/"), welcome

        assert dev.stop(signal.SIGTERM) == 0, dev.log()
        assert [pid for pid in children if is_alive(pid)] == []


def test_dev_stops_the_rest_and_fails_when_a_child_dies(
    tmp_path: Path, temporal_address: str
) -> None:
    env = dev_environment(tmp_path / "var", {"SOCIALRX_TEMPORAL_ADDRESS": temporal_address})
    with running_dev(tmp_path, env) as dev:
        dev.wait_until_serving()
        children = children_of(dev.process.pid)
        worker = next(pid for pid, line in children.items() if line.endswith("worker"))

        os.kill(worker, signal.SIGKILL)
        assert dev.process.wait(30) == 1
        assert "worker stopped unexpectedly" in dev.log()
        assert [pid for pid in children if is_alive(pid)] == []


def test_a_stop_while_waiting_for_temporal_exits_cleanly(tmp_path: Path) -> None:
    env = dev_environment(tmp_path / "var")
    # Nothing listens at this address, so dev keeps waiting for Temporal to answer.
    env["SOCIALRX_TEMPORAL_ADDRESS"] = f"127.0.0.1:{env['SOCIALRX_TEMPORAL_PORT']}"
    with running_dev(tmp_path, env) as dev:
        dev.wait_for_log("Using the Temporal server at")
        assert dev.stop(signal.SIGTERM) == 0, dev.log()
        assert "socialrx dev stopped" in dev.log()


@pytest.mark.parametrize(
    "setting", ["SOCIALRX_API_PORT", "SOCIALRX_TEMPORAL_PORT", "SOCIALRX_TEMPORAL_UI_PORT"]
)
def test_a_taken_port_is_named_with_its_setting_before_anything_starts(
    tmp_path: Path, setting: str
) -> None:
    env = dev_environment(tmp_path / "var")
    port = int(env[setting])
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        with running_dev(tmp_path, env) as dev:
            assert dev.process.wait(30) == 1, dev.log()
            log = dev.log()
    assert f"port {port}" in log and "already in use" in log, log
    assert f"{setting}=" in log, log
    assert "socialrx is running" not in log, log
    # Nothing was started: no Temporal state, no database.
    assert not (tmp_path / "var" / "temporal.db").exists()
    assert not (tmp_path / "var" / "core.db").exists()
