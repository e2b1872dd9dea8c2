"""``socialrx bench load``: request latencies under concurrent load, against cheap baselines.

Deployed as in production: PostgreSQL (a throwaway cluster unless ``--database-url`` names
one), a Temporal dev server with a database file, and ``socialrx worker`` and ``socialrx api``
as processes of their own. At each concurrency the bench times, in one run:

- ``GET /health/live``, the cheapest route: what any request costs to get through the API;
- intake (``POST /referrals``), then each human step up to the person starting a service
  (contact attempt, assessment, connection, the organisation's answer, uptake) over the
  referrals it made;
- a bare Temporal update round trip (``socialrx.bench_baseline``: the same updates with the
  same request bodies, no logic and no database), sent from this process.

It prints p50, p95 and p99, throughput and the 5xx count of each, then the ratios: intake
p99 over the cheap route's p99 (target <= 3), each step's p95 over the bare update's p95
(target <= 2), and the 5xx count (target 0).
"""

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from uuid import uuid4

import httpx
import typer
from rich.console import Console
from rich.table import Table
from temporalio.client import Client
from temporalio.worker import Worker

from core.settings import Settings
from domain.policy import ReferralPolicy
from socialrx.bench_baseline import (
    BaselineWorkflow,
    assign_nobody,
    project_nothing,
    suggest_nothing,
)
from socialrx.bench_lifecycle import (
    ACTIVITY_THREADS,
    LINK_WORKER_USER,
    ORGANISATION_USER,
    PRACTICE_USER,
    SERVICE,
    STEP_PATIENCE_SECONDS,
    SWEMWBS,
    BenchFailed,
    _api_process,
    _person,
    _prepare_database,
    _signed_in,
    _temporal,
    distinct_nhs_numbers,
    worker_process,
)
from socialrx.bench_reports import percentile

CONCURRENCY = (1, 10, 50)
QUICK_CONCURRENCY = (1, 4)
TARGET_INTAKE_RATIO = 3.0
TARGET_STEP_RATIO = 2.0
# Deadlines far beyond the run: no timer fires while the steps are being timed.
LOAD_POLICY = ReferralPolicy()


@dataclass
class Timed:
    """One operation's requests at one concurrency."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    server_errors: int = 0
    dropped: int = 0
    """Requests the API closed the connection on without answering."""

    def p(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) if self.latencies else float("nan")

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else float("nan")


# Concurrency -> operation -> timings.
Results = dict[int, dict[str, Timed]]
# Each step's request body; the bare updates carry the same.
CONTACT = {"method": "phone", "reached": True}
ASSESSMENT = {"need_codes": ["sp-physical-activity"], "baseline": [SWEMWBS]}
CONNECTION = {"service_ids": [SERVICE]}
ANSWER = {"accepted": True}
UPTAKE = {"started": True}
STEPS = ("contact attempt", "assessment", "connection", "organisation answer", "uptake")


def load(
    quick: Annotated[bool, typer.Option(help="Tiny sizes: concurrency 1 and 4.")] = False,
    requests: Annotated[
        int | None, typer.Option(help="Referrals (and cheap requests) per concurrency.", min=1)
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="A scratch database; without it a throwaway PostgreSQL is started."),
    ] = None,
) -> None:
    """Latency percentiles, throughput and 5xx of intake and each step at concurrency 1, 10
    and 50, with the cheap route's and a bare Temporal update's in the same run."""
    console = Console(width=120)
    levels = QUICK_CONCURRENCY if quick else CONCURRENCY
    count = requests or (8 if quick else 100)
    with _database(database_url) as url:
        results = asyncio.run(_bench(console, url, levels, count))
    _print(console, results)


def _database(url: str | None) -> AbstractContextManager[str]:
    if url:
        return nullcontext(url)
    from socialrx.pg_cluster import throwaway_postgres

    return throwaway_postgres()


def scratch_settings(scratch: str, url: str, bench: str) -> Settings:
    """Settings of a bench deployment on ``url``, migrated and with the demo data."""
    settings = Settings(
        var_dir=Path(scratch),
        database_url=url,
        task_queue=f"bench-{bench}-{uuid4()}",
        policy=LOAD_POLICY,
    )
    _prepare_database(settings)
    return settings


async def _bench(console: Console, url: str, levels: tuple[int, ...], count: int) -> Results:
    with tempfile.TemporaryDirectory(prefix="socialrx-bench-load-") as scratch:
        settings = scratch_settings(scratch, url, "load")
        executor = ThreadPoolExecutor(max_workers=ACTIVITY_THREADS)
        async with _temporal(None, Path(scratch)) as client:
            address = client.service_client.config.target_host
            baseline_queue = f"bench-load-baseline-{uuid4()}"
            async with (
                worker_process(settings, address),
                _api_process(settings, address) as api_url,
                httpx.AsyncClient(base_url=api_url, timeout=STEP_PATIENCE_SECONDS) as http,
                Worker(
                    client,
                    task_queue=baseline_queue,
                    workflows=[BaselineWorkflow],
                    activities=[project_nothing, assign_nobody, suggest_nothing],
                    activity_executor=executor,
                ),
            ):
                roles = _Roles(
                    practice=await _signed_in(http, PRACTICE_USER),
                    link_worker=await _signed_in(http, LINK_WORKER_USER),
                    organisation=await _signed_in(http, ORGANISATION_USER),
                )
                results: Results = {}
                for concurrency in levels:
                    console.print(f"concurrency {concurrency}: {count} of each ...")
                    results[concurrency] = await _level(
                        http, client, baseline_queue, roles, concurrency, count
                    )
        executor.shutdown()
    return results


@dataclass
class _Roles:
    """Authorization headers of each role."""

    practice: dict[str, str]
    link_worker: dict[str, str]
    organisation: dict[str, str]


async def _timed(
    concurrency: int,
    count: int,
    one: Callable[[int], Awaitable[int]],
    failed: set[int] | None = None,
) -> Timed:
    """``one(index)`` for each index, ``concurrency`` at a time; ``one`` answers the HTTP
    status (200 for a Temporal round trip). Indexes in ``failed`` (a referral whose earlier
    request failed) are skipped; those that fail here are added to it."""
    timed = Timed()
    in_flight = asyncio.Semaphore(concurrency)
    failed = set() if failed is None else failed

    async def run(index: int) -> None:
        if index in failed:
            return
        async with in_flight:
            started = time.perf_counter()
            try:
                status = await one(index)
            except httpx.TransportError:
                timed.dropped += 1
                failed.add(index)
                return
            timed.latencies.append(time.perf_counter() - started)
            if status >= 500:
                timed.server_errors += 1
                failed.add(index)

    started = time.perf_counter()
    await asyncio.gather(*(run(index) for index in range(count)))
    timed.seconds = time.perf_counter() - started
    return timed


async def _level(
    http: httpx.AsyncClient,
    client: Client,
    baseline_queue: str,
    roles: _Roles,
    concurrency: int,
    count: int,
) -> dict[str, Timed]:
    timings: dict[str, Timed] = {}
    nhs_numbers = distinct_nhs_numbers(count)
    referrals: list[str] = [""] * count
    service_referrals: list[str] = [""] * count

    async def cheap(_index: int) -> int:
        return (await http.get("/health/live")).status_code

    async def intake(index: int) -> int:
        response = await http.post(
            "/referrals", json=_person(nhs_numbers[index]), headers=roles.practice
        )
        if response.status_code == 201:
            referrals[index] = f"/referrals/{response.json()['id']}"
        return response.status_code

    async def post(path: str, body: dict[str, Any], actor: dict[str, str]) -> httpx.Response:
        response = await http.post(path, json=body, headers=actor)
        if response.status_code != 200 and response.status_code < 500:
            raise BenchFailed(f"POST {path}: {response.status_code} {response.text}")
        return response

    async def contact(index: int) -> int:
        path = f"{referrals[index]}/contact-attempts"
        return (await post(path, CONTACT, roles.link_worker)).status_code

    async def assessment(index: int) -> int:
        path = f"{referrals[index]}/assessment"
        return (await post(path, ASSESSMENT, roles.link_worker)).status_code

    async def connection(index: int) -> int:
        response = await post(f"{referrals[index]}/connections", CONNECTION, roles.link_worker)
        if response.status_code == 200:
            service_referral = response.json()["service_referrals"][0]["id"]
            service_referrals[index] = f"/service-referrals/{service_referral}"
        return response.status_code

    async def answer(index: int) -> int:
        path = f"{service_referrals[index]}/response"
        return (await post(path, ANSWER, roles.organisation)).status_code

    async def uptake(index: int) -> int:
        path = f"{service_referrals[index]}/uptake"
        return (await post(path, UPTAKE, roles.organisation)).status_code

    timings["cheap route"] = await _timed(concurrency, count, cheap)
    failed: set[int] = set()
    timings["intake"] = await _timed(concurrency, count, intake, failed)
    await _until_assigned(http, roles, referrals)
    for name, step in zip(STEPS, (contact, assessment, connection, answer, uptake), strict=True):
        timings[name] = await _timed(concurrency, count, step, failed)
    timings["bare update"] = await _bare_updates(client, baseline_queue, concurrency, count)
    return timings


async def _until_assigned(http: httpx.AsyncClient, roles: _Roles, referrals: list[str]) -> None:
    """Waits, untimed, until the worker has assigned every referral a link worker: a first
    step before that answers 409, which is the workflow's pace, not a step's cost."""
    give_up = time.monotonic() + STEP_PATIENCE_SECONDS
    for referral in referrals:
        if not referral:
            continue  # intake failed (counted as a 5xx)
        while True:
            response = await http.get(referral, headers=roles.practice)
            if response.status_code == 200 and response.json()["link_worker_id"]:
                break
            if time.monotonic() > give_up:
                raise BenchFailed(f"{referral} was not assigned within the bench's patience")
            await asyncio.sleep(0.05)


async def _bare_updates(client: Client, task_queue: str, concurrency: int, count: int) -> Timed:
    """The same five updates on bare workflows, each timed as one round trip."""
    handles = [
        await client.start_workflow(
            BaselineWorkflow.run, LOAD_POLICY, id=f"baseline-{uuid4()}", task_queue=task_queue
        )
        for _ in range(count)
    ]
    every = Timed()
    for update, body in (
        (BaselineWorkflow.record_contact_attempt, CONTACT),
        (BaselineWorkflow.record_assessment, ASSESSMENT),
        (BaselineWorkflow.connect_services, CONNECTION),
        (BaselineWorkflow.respond_to_referral, ANSWER),
        (BaselineWorkflow.confirm_uptake, UPTAKE),
    ):

        async def one(index: int, update: Any = update, body: dict[str, Any] = body) -> int:
            await handles[index].execute_update(update, body)
            return 200

        timed = await _timed(concurrency, count, one)
        every.latencies += timed.latencies
        every.seconds += timed.seconds
    for handle in handles:
        await handle.terminate("benchmark over")
    return every


def _print(console: Console, results: Results) -> None:
    table = Table(title="Load: latency in ms, throughput per second")
    for column in ("concurrency", "operation", "n", "p50", "p95", "p99", "per s", "5xx",
                   "dropped"):  # fmt: skip
        table.add_column(column, justify="left" if column == "operation" else "right")
    for concurrency, timings in results.items():
        for name, timed in timings.items():
            table.add_row(
                str(concurrency),
                name,
                str(len(timed.latencies)),
                f"{timed.p(0.5) * 1000:.0f}",
                f"{timed.p(0.95) * 1000:.0f}",
                f"{timed.p(0.99) * 1000:.0f}",
                f"{timed.per_second:.1f}",
                str(timed.server_errors),
                str(timed.dropped),
            )
    console.print(table)
    errors = dropped = 0
    for concurrency, timings in results.items():
        intake = timings["intake"].p(0.99) / timings["cheap route"].p(0.99)
        console.print(
            _verdict(
                f"concurrency {concurrency}: intake p99 / cheap route p99 = {intake:.2f}",
                intake <= TARGET_INTAKE_RATIO,
            )
        )
        bare = timings["bare update"].p(0.95)
        for step in STEPS:
            ratio = timings[step].p(0.95) / bare
            console.print(
                _verdict(
                    f"concurrency {concurrency}: {step} p95 / bare update p95 = {ratio:.2f}",
                    ratio <= TARGET_STEP_RATIO,
                )
            )
        errors += sum(timed.server_errors for timed in timings.values())
        dropped += sum(timed.dropped for timed in timings.values())
    console.print(_verdict(f"5xx answers: {errors}", errors == 0))
    console.print(_verdict(f"connections dropped without an answer: {dropped}", dropped == 0))


def _verdict(line: str, met: bool) -> str:
    return f"{line} (target met)" if met else f"{line} (target missed)"
