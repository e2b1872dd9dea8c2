"""``socialrx bench lifecycle``: whole referrals per second, against bare Temporal.

Each referral goes the whole way through the real API, worker and database, deployed as in
production: the API is a process of its own (``socialrx api``) and the worker runs here,
beside the driver, as the baseline's worker does. Each referral is submitted, contacted,
assessed, connected, accepted, started, both follow-ups recorded and closed ``completed``,
with the process's durations compressed to seconds. Then as many
baseline workflows (``socialrx.bench_baseline``) take the same Temporal steps with no logic
and no database. The ratio of the two rates is what our code costs on top of Temporal.
"""

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import nhs_number
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlmodel import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.db import engine_for, migrate
from core.settings import Settings
from core.temporal import DATA_CONVERTER, installed_binary
from domain.enums import ClosureReason
from domain.messages import ReferralState
from domain.policy import ReferralPolicy
from socialrx.bench_baseline import (
    BaselineWorkflow,
    assign_nobody,
    project_nothing,
    suggest_nothing,
)
from socialrx.demo_accounts import DEMO_PASSWORD
from socialrx.seed import load_demo_data

# Deadlines that pass in seconds; the windows leave room for a loaded machine to keep up.
COMPRESSED_POLICY = ReferralPolicy(
    first_contact_due=timedelta(seconds=30),
    first_contact_in_working_days=False,
    organisation_reminder_after=timedelta(seconds=30),
    organisation_response_due=timedelta(seconds=60),
    follow_up_checkpoints=[timedelta(seconds=2), timedelta(seconds=3)],
    follow_up_window=timedelta(seconds=10),
)
ACTIVITY_THREADS = 8  # as many as socialrx.worker.build_worker gives the real worker
TARGET_RATIO = 0.85
TARGET_EVENTS = 150
# A step tried before the workflow is ready (a checkpoint's timer not yet fired) is tried
# again after 50 ms, then less and less often, as a polite client would: each refused try
# costs the API and the worker a round trip that the baseline, which waits inside its
# handler, never pays.
STEP_RETRY_SECONDS = 0.05
STEP_RETRY_BACKOFF = 2.0
STEP_RETRY_MAX_SECONDS = 0.2
STEP_PATIENCE_SECONDS = 30.0
API_START_SECONDS = 60.0
ORGANISATION = "org-millbrook-leisure-trust"
SERVICE = "svc-health-walks"
# Demo accounts (socialrx.demo_accounts) the bench signs in as.
PRACTICE_USER = "gp-a81001"
LINK_WORKER_USER = "lw-amira"
ORGANISATION_USER = ORGANISATION
SWEMWBS = {"instrument": "swemwbs", "answers": {f"item{i}": 3 for i in range(1, 8)}}


BYTECODE_CACHE = Path(tempfile.gettempdir()) / "socialrx-bench-bytecode"


class BenchFailed(Exception):
    pass


@dataclass
class Phase:
    name: str
    workflow_ids: list[str]
    seconds: float
    history_events: list[int]

    @property
    def per_second(self) -> float:
        return len(self.workflow_ids) / self.seconds


def lifecycle(
    referrals: int = typer.Option(50, "--referrals", "-n", min=1, help="Referrals to drive."),
    concurrency: int = typer.Option(
        10,
        min=1,
        help="How many referrals are in flight at once.",
    ),
    address: str | None = typer.Option(
        None, help="host:port of a running Temporal server; default: a dev server for this run."
    ),
    rounds: int = typer.Option(
        2, min=1, help="Rounds of both phases; every other round runs the baseline first."
    ),
    backend: str = typer.Option("sqlite", help="sqlite, or postgresql (a throwaway cluster)."),
) -> None:
    """Drive whole referrals through API, worker and database, then a no-logic baseline.

    Prints both rates, their ratio (target >= 0.85) and the median history events per
    referral (target <= 150). Uses a scratch database that is removed afterwards.
    """
    if backend not in ("sqlite", "postgresql"):
        raise typer.BadParameter(f"unknown backend {backend!r}; use sqlite or postgresql")
    console = Console()
    with (
        tempfile.TemporaryDirectory(prefix="socialrx-bench-") as scratch,
        _database(backend, Path(scratch)) as url,
    ):
        phases = asyncio.run(
            _bench(referrals, concurrency, address, rounds, url, Path(scratch), console)
        )
    _report(console, backend, phases)


def _database(backend: str, scratch: Path) -> AbstractContextManager[str]:
    if backend == "sqlite":
        return nullcontext(f"sqlite:///{scratch / 'bench.db'}")
    from socialrx.pg_cluster import throwaway_postgres

    return throwaway_postgres()


async def _bench(
    count: int,
    concurrency: int,
    address: str | None,
    rounds: int,
    url: str,
    scratch: Path,
    console: Console,
) -> list[Phase]:
    console.print(
        f"Lifecycle benchmark: {count} referrals, {concurrency} at a time, {rounds} rounds."
    )
    settings = Settings(
        var_dir=scratch,
        database_url=url,
        task_queue=f"bench-referrals-{uuid4()}",
        policy=COMPRESSED_POLICY,
    )
    _prepare_database(settings)
    nhs_numbers = distinct_nhs_numbers(count * rounds)
    # The baseline's worker runs here with an executor of the real worker's size; the
    # referrals' worker is `socialrx worker` in a process of its own, as in production.
    executor = ThreadPoolExecutor(max_workers=ACTIVITY_THREADS)
    phases = []
    async with _temporal(address, scratch) as client:
        with Progress(
            TextColumn("{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            for number in range(rounds):
                mine = nhs_numbers[number * count : (number + 1) * count]
                referral = _referral_phase(client, settings, mine, concurrency, progress)
                baseline = _baseline_phase(client, count, concurrency, progress, executor)
                # Every other round runs the baseline first, so neither phase always finds
                # the machine (caches, Temporal's database) as the other one left it.
                if number % 2:
                    phases += [await baseline, await referral]
                else:
                    phases += [await referral, await baseline]
    executor.shutdown()
    return phases


def _prepare_database(settings: Settings) -> None:
    url = settings.resolved_database_url
    migrate(url)
    with Session(engine_for(url)) as session:
        load_demo_data(session)  # includes SERVICE, which every bench referral is connected to


@asynccontextmanager
async def _temporal(address: str | None, scratch: Path) -> AsyncIterator[Client]:
    if address:
        yield await Client.connect(address, data_converter=DATA_CONVERTER)
        return
    # Persisted like `socialrx dev` persists, so the figures are those a user sees.
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=installed_binary("temporal"),
        dev_server_log_level="error",
        dev_server_extra_args=[
            "--db-filename",
            str(scratch / "temporal.db"),
            "--sqlite-pragma",
            "journal_mode=WAL",
            "--sqlite-pragma",
            "synchronous=NORMAL",
        ],
    )
    try:
        yield env.client
    finally:
        await env.shutdown()


async def _referral_phase(
    client: Client,
    settings: Settings,
    nhs_numbers: list[str],
    concurrency: int,
    progress: Progress,
) -> Phase:
    address = client.service_client.config.target_host
    # A task queue of its own: the API is ready when this phase's worker polls it, not when
    # Temporal still remembers the last phase's.
    settings = settings.model_copy(update={"task_queue": f"bench-referrals-{uuid4()}"})
    async with (
        worker_process(settings, address),
        _api_process(settings, address) as api_url,
        httpx.AsyncClient(base_url=api_url, timeout=STEP_PATIENCE_SECONDS) as http,
    ):
        driver = ReferralDriver(
            http,
            client,
            practice=await _signed_in(http, PRACTICE_USER),
            link_worker=await _signed_in(http, LINK_WORKER_USER),
            organisation=await _signed_in(http, ORGANISATION_USER),
        )
        phase = await _phase(
            "referral",
            lambda index: driver.drive(nhs_numbers[index]),
            client,
            len(nhs_numbers),
            concurrency,
            progress,
        )
    return phase


async def _signed_in(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await http.post(
        "/auth/token", data={"username": username, "password": DEMO_PASSWORD}
    )
    if response.status_code != 200:
        raise BenchFailed(f"cannot sign in as {username}: {response.status_code}")
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@asynccontextmanager
async def _api_process(settings: Settings, temporal_address: str) -> AsyncIterator[str]:
    """``socialrx api`` in a process of its own, on a free port; yields its base URL once it
    is ready."""
    port = _free_port()
    env = {"SOCIALRX_API_PORT": str(port)}
    async with _socialrx_process("api", settings, temporal_address, env) as (process, log_path):
        url = f"http://127.0.0.1:{port}"
        await _wait_for_api(url, process, log_path)
        yield url


@asynccontextmanager
async def worker_process(
    settings: Settings, temporal_address: str, log_name: str = "worker"
) -> AsyncIterator[None]:
    """``socialrx worker`` in a process of its own, as in production; its output goes to
    ``log_name``.log in the scratch directory."""
    async with _socialrx_process("worker", settings, temporal_address, {}, log_name):
        yield


@asynccontextmanager
async def _socialrx_process(
    command: str,
    settings: Settings,
    temporal_address: str,
    extra_env: dict[str, str],
    log_name: str | None = None,
) -> AsyncIterator[tuple["subprocess.Popen[bytes]", Path]]:
    """``socialrx COMMAND`` on these settings, its output in the scratch directory; stopped
    with SIGTERM afterwards."""
    env = server_environment(settings, temporal_address) | extra_env
    log_path = settings.var_dir / f"{log_name or command}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "socialrx", command],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            yield process, log_path
        finally:
            process.terminate()
            await asyncio.to_thread(process.wait, API_START_SECONDS)


def server_environment(settings: Settings, temporal_address: str) -> dict[str, str]:
    """The environment of a bench's ``socialrx`` process: this one's, with these settings."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return env | {
        # Bytecode kept, as a deployed install keeps it (pip compiles what it installs): without
        # it the workflow sandbox compiles workflows/referral.py again for every new referral,
        # about a tenth of the worker's time. Kept outside the sources, and from one run to
        # the next so that the servers' start is not timed compiling everything.
        "PYTHONPYCACHEPREFIX": str(BYTECODE_CACHE),
        "SOCIALRX_DATABASE_URL": settings.resolved_database_url,
        "SOCIALRX_TEMPORAL_ADDRESS": temporal_address,
        "SOCIALRX_TASK_QUEUE": settings.task_queue,
        "SOCIALRX_POLICY": settings.policy.model_dump_json(),
        # Access logs would cost the API time that the baseline, which has no API, never pays.
        "SOCIALRX_LOG_LEVEL": "WARNING",
    }


async def _wait_for_api(url: str, process: "subprocess.Popen[bytes]", log_path: Path) -> None:
    give_up = time.monotonic() + API_START_SECONDS
    async with httpx.AsyncClient(base_url=url) as http:
        while process.poll() is None and time.monotonic() < give_up:
            try:
                # Ready: the database and Temporal answer and a worker polls the task queue.
                if (await http.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise BenchFailed(f"the API did not start; its output:\n{log_path.read_text()[-2000:]}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _baseline_phase(
    client: Client, count: int, concurrency: int, progress: Progress, executor: Executor
) -> Phase:
    task_queue = f"bench-baseline-{uuid4()}"
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[BaselineWorkflow],
        activities=[project_nothing, assign_nobody, suggest_nothing],
        activity_executor=executor,
    )
    async with worker:
        return await _phase(
            "baseline",
            lambda _index: drive_baseline(client, task_queue),
            client,
            count,
            concurrency,
            progress,
        )


async def _phase(
    name: str,
    drive_one: Callable[[int], Awaitable[str]],
    client: Client,
    count: int,
    concurrency: int,
    progress: Progress,
) -> Phase:
    task = progress.add_task(name, total=count)
    in_flight = asyncio.Semaphore(concurrency)

    async def one(index: int) -> str:
        async with in_flight:
            workflow_id = await drive_one(index)
        progress.advance(task)
        return workflow_id

    started = time.perf_counter()
    workflow_ids = await asyncio.gather(*(one(index) for index in range(count)))
    seconds = time.perf_counter() - started
    events = [
        len((await client.get_workflow_handle(workflow_id).fetch_history()).events)
        for workflow_id in workflow_ids
    ]
    return Phase(name, list(workflow_ids), seconds, events)


@dataclass
class ReferralDriver:
    """Takes one referral through the API as the practice, link worker and organisation would."""

    http: httpx.AsyncClient
    client: Client
    practice: dict[str, str]
    """Authorization headers of each role."""
    link_worker: dict[str, str]
    organisation: dict[str, str]

    async def drive(self, nhs: str) -> str:
        created = await self._post("/referrals", _person(nhs), self.practice, expect=201)
        referral = f"/referrals/{created['id']}"
        # The first step waits until the workflow has assigned a link worker.
        await self._post_when_legal(
            f"{referral}/contact-attempts", {"method": "phone", "reached": True}
        )
        await self._post(
            f"{referral}/assessment",
            {"need_codes": ["sp-physical-activity"], "baseline": [SWEMWBS]},
        )
        state = await self._post(f"{referral}/connections", {"service_ids": [SERVICE]})
        service_referral = f"/service-referrals/{state['service_referrals'][0]['id']}"
        await self._post(f"{service_referral}/response", {"accepted": True}, self.organisation)
        state = await self._post(f"{service_referral}/uptake", {"started": True}, self.organisation)
        for checkpoint in state["checkpoints"]:
            await _sleep_until(datetime.fromisoformat(checkpoint["opens_at"]))
            await self._post_when_legal(
                f"{referral}/follow-ups/{checkpoint['number']}", {"measures": [SWEMWBS]}
            )
        handle = self.client.get_workflow_handle(created["workflow_id"], result_type=ReferralState)
        final = await handle.result()
        if final.closure_reason != ClosureReason.COMPLETED:
            raise BenchFailed(f"{created['workflow_id']} closed as {final.closure_reason}")
        return str(created["workflow_id"])

    async def _post(
        self,
        path: str,
        body: dict[str, Any],
        actor: dict[str, str] | None = None,
        expect: int = 200,
    ) -> dict[str, Any]:
        response = await self.http.post(path, json=body, headers=actor or self.link_worker)
        if response.status_code != expect:
            raise BenchFailed(f"POST {path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    async def _post_when_legal(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST, retrying while the workflow answers 409 (a timer or start-up not done yet)."""
        give_up = time.monotonic() + STEP_PATIENCE_SECONDS
        pause = STEP_RETRY_SECONDS
        while True:
            response = await self.http.post(path, json=body, headers=self.link_worker)
            if response.status_code != 409 or time.monotonic() > give_up:
                break
            await asyncio.sleep(pause)
            pause = min(pause * STEP_RETRY_BACKOFF, STEP_RETRY_MAX_SECONDS)
        if response.status_code != 200:
            raise BenchFailed(f"POST {path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer


async def drive_baseline(client: Client, task_queue: str) -> str:
    handle = await client.start_workflow(
        BaselineWorkflow.run, COMPRESSED_POLICY, id=f"baseline-{uuid4()}", task_queue=task_queue
    )
    for update in (
        BaselineWorkflow.record_contact_attempt,
        BaselineWorkflow.record_assessment,
        BaselineWorkflow.connect_services,
        BaselineWorkflow.respond_to_referral,
    ):
        await handle.execute_update(update)
    opens_at = await handle.execute_update(BaselineWorkflow.confirm_uptake)
    for number, opening in enumerate(opens_at, start=1):
        await _sleep_until(opening)
        await handle.execute_update(BaselineWorkflow.record_follow_up, number)
    await handle.result()
    return handle.id


async def _sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def distinct_nhs_numbers(count: int) -> list[str]:
    """Synthetic NHS numbers, none twice. The generator draws at random from about 900,000
    valid numbers, so 10,000 draws almost surely repeat one, and a repeat is refused (409) as
    a second open referral for one person."""
    found: dict[str, None] = {}
    while len(found) < count:
        more = nhs_number.generate(
            for_region=nhs_number.REGION_SYNTHETIC, quantity=count - len(found)
        )
        found.update(dict.fromkeys(more))
    return list(found)


def _person(nhs: str) -> dict[str, Any]:
    return {
        "practice_ods": "A81001",
        "nhs_number": nhs,
        "given_name": "Bench",
        "family_name": "Person",
        "birth_date": "1950-01-01",
        "postcode": "MB1 1AA",
        "reason": "Benchmark referral",
        "need_codes": ["sp-social-groups"],
        "consent_given": True,
        "share_with_organisations": "contact_and_reason",
        "outcome_to_gp": "details",
    }


def _report(console: Console, backend: str, phases: list[Phase]) -> None:
    table = Table(title=f"Whole referral lifecycles ({backend})")
    table.add_column("round", justify="right")
    table.add_column("run")
    table.add_column("completed", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("per second", justify="right")
    table.add_column("median history events", justify="right")
    for index, phase in enumerate(phases):
        table.add_row(
            str(index // 2 + 1),
            phase.name,
            str(len(phase.workflow_ids)),
            f"{phase.seconds:.2f}",
            f"{phase.per_second:.2f}",
            f"{statistics.median(phase.history_events):g}",
        )
    console.print(table)
    referrals = [phase for phase in phases if phase.name == "referral"]
    baselines = [phase for phase in phases if phase.name == "baseline"]
    each = [r.per_second / b.per_second for r, b in zip(referrals, baselines, strict=True)]
    ratio = _rate(referrals) / _rate(baselines)
    events = statistics.median(e for phase in referrals for e in phase.history_events)
    console.print(f"ratio of each round: {', '.join(f'{r:.2f}' for r in each)}")
    console.print(
        _verdict(f"ratio referral/baseline ({backend}): {ratio:.2f}", ratio >= TARGET_RATIO)
    )
    console.print(
        _verdict(f"median history events per referral: {events:g}", events <= TARGET_EVENTS)
    )


def _rate(phases: list[Phase]) -> float:
    """Workflows per second over all these phases together."""
    return sum(len(p.workflow_ids) for p in phases) / sum(p.seconds for p in phases)


def _verdict(line: str, met: bool) -> str:
    return f"{line} [green](target met)[/]" if met else f"{line} [red](target missed)[/]"
