"""The production-like topology of the fault suite, as separate processes that a test may
``kill -9`` and start again: the Temporal dev server on a database file, PostgreSQL (the
cluster of ``scripts/with-postgres``), and two each of ``socialrx worker`` and ``socialrx api``.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import make_url

from core.temporal import installed_binary
from tests.support.dev_processes import dev_environment, free_port

# How long a process may take to answer after it is started (the machine may be busy).
START_SECONDS = 120.0
# The readiness check bounds each of its checks by the RPC timeout (5 s in the fault suite):
# an API that takes longer to answer has a blocked event loop.
PROBE_SECONDS = 10.0


def wait_until(condition: Callable[[], bool], what: str, seconds: float = START_SECONDS) -> float:
    """Poll ``condition`` until it holds; returns how long that took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.1)
    return time.monotonic() - started


def durable(database_url: str) -> str:
    """The URL with commits durable, as in production. The test cluster turns that off for
    speed, and then a commit already answered is lost when PostgreSQL stops at once."""
    url = make_url(database_url)
    return url.update_query_dict({"options": "-c synchronous_commit=on"}).render_as_string(
        hide_password=False
    )


@dataclass
class Service:
    """One long-running process, restartable with the same command and environment."""

    name: str
    command: list[str]
    env: Mapping[str, str]
    log_path: Path
    process: "subprocess.Popen[bytes] | None" = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=dict(self.env), stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """``kill -9``: no chance to finish anything."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def assert_running(self) -> None:
        assert self.process is not None and self.process.poll() is None, (
            f"{self.name} exited:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Postgres:
    """The cluster ``scripts/with-postgres`` started, controlled through its pg_ctl."""

    pg_ctl: str
    data_dir: str
    options: str
    log_path: str

    @classmethod
    def from_environment(cls) -> "Postgres | None":
        names = ("SOCIALRX_TEST_PG_CTL", "SOCIALRX_TEST_PGDATA", "SOCIALRX_TEST_PG_OPTIONS")
        if not all(os.environ.get(name) for name in names):
            return None
        return cls(
            os.environ["SOCIALRX_TEST_PG_CTL"],
            os.environ["SOCIALRX_TEST_PGDATA"],
            os.environ["SOCIALRX_TEST_PG_OPTIONS"],
            os.environ.get("SOCIALRX_TEST_PG_LOG", "/dev/null"),
        )

    def _pg_ctl(self, *arguments: str) -> None:
        # PostgreSQL refuses to run as root: with-postgres made the cluster the postgres user's.
        as_owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run(
            [*as_owner, self.pg_ctl, "-D", self.data_dir, *arguments],
            check=True,
            capture_output=True,
        )

    def stop_immediately(self) -> None:
        """Like a crash: no shutdown checkpoint, every connection cut."""
        self._pg_ctl("-m", "immediate", "stop")

    def start(self) -> None:
        self._pg_ctl("-l", self.log_path, "-w", "-o", self.options, "start")


@dataclass
class Topology:
    workdir: Path
    database_url: str
    policy: Mapping[str, str]
    task_queue: str = "socialrx-faults"
    temporal_port: int = field(default_factory=free_port)
    temporal: Service = field(init=False)
    workers: list[Service] = field(init=False)
    apis: list[Service] = field(init=False)

    def __post_init__(self) -> None:
        env = dev_environment(
            self.workdir / "var",
            {
                "SOCIALRX_ENV": "test",
                "SOCIALRX_DATABASE_URL": durable(self.database_url),
                # Warnings and errors only: the access log of every request costs a core.
                "SOCIALRX_LOG_LEVEL": "WARNING",
                "SOCIALRX_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
                "SOCIALRX_TASK_QUEUE": self.task_queue,
                # Workers are counted as up as soon as they poll again after a restart.
                "SOCIALRX_TEMPORAL__WORKER_SEEN_WITHIN": "PT10S",
                **self.policy,
            },
        )
        self.temporal = Service("temporal", self._temporal_command(), env, self._log("temporal"))
        socialrx = [sys.executable, "-m", "socialrx"]
        self.workers = [
            Service(f"worker-{n}", [*socialrx, "worker"], env, self._log(f"worker-{n}"))
            for n in (1, 2)
        ]
        self.apis = [
            Service(
                f"api-{n}",
                [*socialrx, "api"],
                {**env, "SOCIALRX_API_PORT": str(free_port())},
                self._log(f"api-{n}"),
            )
            for n in (1, 2)
        ]

    def _log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def _temporal_command(self) -> list[str]:
        return [
            installed_binary("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(self.workdir / "temporal.db"),
            "--port",
            str(self.temporal_port),
            "--headless",
            "--ip",
            "127.0.0.1",
            "--log-level",
            "error",
        ]

    @property
    def services(self) -> list[Service]:
        return [self.temporal, *self.workers, *self.apis]

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    def api_url(self, api: Service) -> str:
        return f"http://127.0.0.1:{api.env['SOCIALRX_API_PORT']}"

    @property
    def api_urls(self) -> list[str]:
        return [self.api_url(api) for api in self.apis]

    def start_all(self) -> None:
        self.temporal.start()
        self.wait_for_temporal()
        for service in [*self.workers, *self.apis]:
            service.start()
        for api in self.apis:
            self.wait_for_api(api)
        wait_until(lambda: all(self.ready(url) == 200 for url in self.api_urls), "APIs ready")

    def wait_for_temporal(self) -> None:
        health = [installed_binary("temporal"), "operator", "cluster", "health"]

        def serving() -> bool:
            self.temporal.assert_running()
            answer = subprocess.run(
                [*health, "--address", self.temporal_address, "--command-timeout", "2s"],
                capture_output=True,
                text=True,
            )
            return "SERVING" in answer.stdout

        wait_until(serving, "Temporal dev server serves")

    def wait_for_api(self, api: Service) -> None:
        def live() -> bool:
            api.assert_running()
            return self.status(f"{self.api_url(api)}/health/live") == 200

        wait_until(live, f"{api.name} answers /health/live")

    def ready(self, url: str) -> int | None:
        return self.status(f"{url}/health/ready")

    def database_down(self, url: str) -> bool:
        """/health/ready answers 503 and names the database as down."""
        try:
            response = httpx.get(f"{url}/health/ready", timeout=PROBE_SECONDS)
        except httpx.TransportError:
            return False
        return response.status_code == 503 and response.json()["database"] == "down"

    @staticmethod
    def status(url: str) -> int | None:
        try:
            return httpx.get(url, timeout=PROBE_SECONDS).status_code
        except httpx.TransportError:
            return None

    def restart(self, service: Service) -> None:
        service.kill()
        service.start()

    def stop_all(self) -> None:
        for service in self.services:
            if service.process is not None and service.process.poll() is None:
                service.kill()

    def logs(self) -> str:
        return "\n".join(f"--- {s.name}\n{s.log_tail()}" for s in self.services)


@contextmanager
def running_topology(
    workdir: Path, database_url: str, policy: Mapping[str, str]
) -> Iterator[Topology]:
    topology = Topology(workdir, database_url, policy)
    try:
        topology.start_all()
        yield topology
    except BaseException:
        print(topology.logs())
        raise
    finally:
        topology.stop_all()
