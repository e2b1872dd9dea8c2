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
from contextlib import asynccontextmanager
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

from core.db import engine_for, make_engine, migrate
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
from socialrx.worker import build_worker

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
TARGET_RATIO = 0.8
TARGET_EVENTS = 150
# A step tried before the workflow is ready (a checkpoint's timer not yet fired) is tried
# again after 50 ms, then less and less often, as a polite client would: each refused try
# costs the API and the worker a round trip that the baseline, which waits inside its
# handler, never pays.
STEP_RETRY_SECONDS = 0.05
STEP_RETRY_BACKOFF = 2.0
STEP_RETRY_MAX_SECONDS = 0.2
STEP_PATIENCE_SECONDS = 30.0
API_START_SECONDS = 30.0
ORGANISATION = "org-millbrook-leisure-trust"
SERVICE = "svc-health-walks"
# Demo accounts (socialrx.demo_accounts) the bench signs in as.
PRACTICE_USER = "gp-a81001"
LINK_WORKER_USER = "lw-amira"
ORGANISATION_USER = ORGANISATION
SWEMWBS = {"instrument": "swemwbs", "answers": {f"item{i}": 3 for i in range(1, 8)}}


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
) -> None:
    """Drive whole referrals through API, worker and database, then a no-logic baseline.

    Prints both rates, their ratio (target >= 0.8) and the median history events per
    referral (target <= 150). Uses a scratch SQLite database that is removed afterwards.
    """
    console = Console()
    referral, baseline = asyncio.run(_bench(referrals, concurrency, address, console))
    _report(console, referral, baseline)


async def _bench(
    count: int, concurrency: int, address: str | None, console: Console
) -> tuple[Phase, Phase]:
    console.print(f"Lifecycle benchmark: {count} referrals, {concurrency} at a time.")
    with tempfile.TemporaryDirectory(prefix="socialrx-bench-") as scratch:
        settings = Settings(
            var_dir=Path(scratch),
            database_url=f"sqlite:///{Path(scratch) / 'bench.db'}",
            task_queue=f"bench-referrals-{uuid4()}",
            policy=COMPRESSED_POLICY,
        )
        _prepare_database(settings)
        # One executor of the real worker's size for both runs: only what runs in it differs.
        executor = ThreadPoolExecutor(max_workers=ACTIVITY_THREADS)
        async with _temporal(address, Path(scratch)) as client:
            with Progress(
                TextColumn("{task.description:<9}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                referral = await _referral_phase(
                    client, settings, count, concurrency, progress, executor
                )
                baseline = await _baseline_phase(client, count, concurrency, progress, executor)
        executor.shutdown()
    return referral, baseline


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
    count: int,
    concurrency: int,
    progress: Progress,
    executor: ThreadPoolExecutor,
) -> Phase:
    worker_engine = make_engine(settings.resolved_database_url)
    nhs_numbers = nhs_number.generate(for_region=nhs_number.REGION_SYNTHETIC, quantity=count)
    async with (
        _api_process(settings, client.service_client.config.target_host) as api_url,
        httpx.AsyncClient(base_url=api_url, timeout=STEP_PATIENCE_SECONDS) as http,
        build_worker(client, settings.task_queue, worker_engine, executor=executor),
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
            count,
            concurrency,
            progress,
        )
    worker_engine.dispose()
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
    """``socialrx api`` in a process of its own, on a free port; yields its base URL."""
    port = _free_port()
    env = os.environ | {
        "SOCIALRX_DATABASE_URL": settings.resolved_database_url,
        "SOCIALRX_TEMPORAL_ADDRESS": temporal_address,
        "SOCIALRX_TASK_QUEUE": settings.task_queue,
        "SOCIALRX_POLICY": settings.policy.model_dump_json(),
        "SOCIALRX_API_PORT": str(port),
        # Access logs would cost the API time that the baseline, which has no API, never pays.
        "SOCIALRX_LOG_LEVEL": "WARNING",
    }
    log_path = settings.var_dir / "api.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "socialrx", "api"],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await _wait_for_api(url, process, log_path)
            yield url
        finally:
            process.terminate()
            await asyncio.to_thread(process.wait, API_START_SECONDS)


async def _wait_for_api(url: str, process: "subprocess.Popen[bytes]", log_path: Path) -> None:
    give_up = time.monotonic() + API_START_SECONDS
    async with httpx.AsyncClient(base_url=url) as http:
        while process.poll() is None and time.monotonic() < give_up:
            try:
                if (await http.get("/openapi.json")).status_code == 200:
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


def _report(console: Console, referral: Phase, baseline: Phase) -> None:
    table = Table(title="Whole referral lifecycles")
    table.add_column("run")
    table.add_column("completed", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("per second", justify="right")
    table.add_column("median history events", justify="right")
    for phase in (referral, baseline):
        table.add_row(
            phase.name,
            str(len(phase.workflow_ids)),
            f"{phase.seconds:.2f}",
            f"{phase.per_second:.2f}",
            f"{statistics.median(phase.history_events):g}",
        )
    console.print(table)
    ratio = referral.per_second / baseline.per_second
    events = statistics.median(referral.history_events)
    console.print(_verdict(f"ratio referral/baseline: {ratio:.2f}", ratio >= TARGET_RATIO))
    console.print(
        _verdict(f"median history events per referral: {events:g}", events <= TARGET_EVENTS)
    )


def _verdict(line: str, met: bool) -> str:
    return f"{line} [green](target met)[/]" if met else f"{line} [red](target missed)[/]"
