"""Running ``socialrx dev`` as a real subprocess, and finding the processes it started."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTUP_SECONDS = 60.0
STOP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def children_of(pid: int) -> dict[int, str]:
    """The live child processes of ``pid``: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        # The command name in stat is parenthesised and may hold spaces: split after it.
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == pid and state != "Z":
            found[int(entry.name)] = cmdline
    return found


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class DevRun:
    process: "subprocess.Popen[str]"
    api_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_serving(self) -> None:
        # dev prints its welcome only once the API answers at /health/live.
        self.wait_for_log("socialrx is running")

    def wait_for_log(self, text: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while text not in self.log():
            assert self.process.poll() is None, f"socialrx dev exited early:\n{self.log()}"
            assert time.monotonic() < deadline, f"never logged {text!r}:\n{self.log()}"
            time.sleep(0.1)

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        return self.process.wait(STOP_SECONDS)


def dev_environment(var_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without any SOCIALRX_ setting, plus free ports under var_dir."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SOCIALRX_")}
    env |= {
        "SOCIALRX_VAR_DIR": str(var_dir),
        "SOCIALRX_API_PORT": str(free_port()),
        "SOCIALRX_TEMPORAL_PORT": str(free_port()),
        "SOCIALRX_TEMPORAL_UI_PORT": str(free_port()),
    }
    return env | dict(extra or {})


@contextmanager
def running_dev(workdir: Path, env: dict[str, str]) -> Iterator[DevRun]:
    """``socialrx dev`` in ``workdir``; killed with its children if the test leaves it running."""
    log_path = workdir / "dev.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "socialrx", "dev"],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    run = DevRun(process, f"http://127.0.0.1:{env['SOCIALRX_API_PORT']}", log_path)
    started: dict[int, str] = {}
    try:
        yield run
    finally:
        if process.poll() is None:
            started = children_of(process.pid)
            process.kill()
            process.wait()
        for pid in started:
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)
