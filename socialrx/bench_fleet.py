"""``socialrx bench fleet``: many referrals waiting on their deadlines, and what they cost.

Deployed as in production (PostgreSQL, a throwaway cluster unless ``--database-url`` names
one; a Temporal dev server with a database file; ``socialrx worker`` and ``socialrx api`` as
processes of their own), the bench opens referrals until each size in ``--sizes`` is open,
all waiting on deadlines far off. At each size it prints the resident memory (RSS) of the
worker, the API and Temporal, Temporal's database size, and the intake rate against the rate
the workers assigned them at (target >= 0.9); then the worker's RSS at the last size over its
RSS at the first (target <= 1.2), and how long the servers took to start.

Unthrottled, intake runs as fast as the API takes referrals (10 at a time) while the workers
share the same cores: the ratio then compares what a referral costs the API with what it
costs the worker. ``--intake-rate`` opens them at most that many a second instead, so that
the ratio says whether assignment keeps pace with an intake the machine can sustain.

``--workers 1,2`` runs it all again, on a fresh deployment, for each number of ``socialrx
worker`` processes polling the one task queue, as production scales out.
"""

import asyncio
import itertools
import os
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from core.db import engine_for
from domain.tables import Referral
from socialrx.bench_lifecycle import (
    PRACTICE_USER,
    STEP_PATIENCE_SECONDS,
    BenchFailed,
    _api_process,
    _person,
    _signed_in,
    _temporal,
    distinct_nhs_numbers,
    worker_process,
)
from socialrx.bench_load import _database, scratch_settings

INTAKE_CONCURRENCY = 10
TARGET_ASSIGNMENT_RATIO = 0.9
TARGET_RSS_RATIO = 1.2
MIB = 1024 * 1024
# Idle connections are dropped well before uvicorn closes them (after 5 s, httpx's own default
# too): a paced intake leaves some idle that long, and reusing one just as the server closes
# it fails the request with a ReadError.
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=1.0)


@dataclass
class Measured:
    workers: int
    open_referrals: int
    intake_per_second: float
    assigned_per_second: float
    rss_mib: dict[str, float]
    temporal_db_mib: float

    @property
    def assignment_ratio(self) -> float:
        return self.assigned_per_second / self.intake_per_second


@dataclass
class Run:
    """One deployment, with this many workers, taken through every size."""

    workers: int
    starts: dict[str, float]
    """Seconds each server took to start, by name."""
    measured: list[Measured]


def fleet(
    sizes: Annotated[
        str, typer.Option(help="Open referrals to reach, in turn, comma-separated.")
    ] = "1000,10000",
    database_url: Annotated[
        str | None,
        typer.Option(help="A scratch database; without it a throwaway PostgreSQL is started."),
    ] = None,
    workers: Annotated[
        str,
        typer.Option(
            help="Worker processes, comma-separated: the bench runs on a fresh deployment "
            "for each count, e.g. 1,2."
        ),
    ] = "1",
    intake_rate: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Referrals opened a second at most; default: as fast as the API takes them.",
        ),
    ] = None,
) -> None:
    """RSS of worker, API and Temporal, Temporal's database size and intake against
    assignment, at each number of waiting referrals."""
    targets = _whole_numbers(sizes, "--sizes", "1000,10000")
    if any(b <= a for a, b in itertools.pairwise(targets)):
        raise typer.BadParameter("--sizes must be increasing, e.g. 1000,10000")
    worker_counts = _whole_numbers(workers, "--workers", "1,2")
    if database_url and len(worker_counts) > 1:
        raise typer.BadParameter(
            "--database-url takes one --workers count: each count needs an empty database"
        )
    console = Console(width=120)
    runs = []
    for count in worker_counts:
        with _database(database_url) as url:
            runs.append(asyncio.run(_bench(console, url, targets, count, intake_rate)))
    _print(console, runs, intake_rate)


def _whole_numbers(text: str, option: str, example: str) -> list[int]:
    """Comma-separated whole numbers above zero."""
    try:
        numbers = [int(part) for part in text.split(",")]
    except ValueError as error:
        raise typer.BadParameter(f"{option} takes whole numbers, e.g. {example}") from error
    if any(number < 1 for number in numbers):
        raise typer.BadParameter(f"{option} takes numbers above zero, e.g. {example}")
    return numbers


async def _bench(
    console: Console, url: str, targets: list[int], workers: int, intake_rate: float | None
) -> Run:
    measured: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="socialrx-bench-fleet-") as scratch:
        settings = scratch_settings(scratch, url, "fleet")
        engine = engine_for(settings.resolved_database_url)
        started = time.perf_counter()
        async with _temporal(None, Path(scratch)) as client:
            starts = {"Temporal": time.perf_counter() - started}
            address = client.service_client.config.target_host
            started = time.perf_counter()
            async with AsyncExitStack() as servers:
                for number in range(1, workers + 1):
                    await servers.enter_async_context(
                        worker_process(settings, address, f"worker-{number}")
                    )
                api_url = await servers.enter_async_context(_api_process(settings, address))
                http = await servers.enter_async_context(
                    httpx.AsyncClient(
                        base_url=api_url, timeout=STEP_PATIENCE_SECONDS, limits=CLIENT_LIMITS
                    )
                )
                starts["workers and API, until ready"] = time.perf_counter() - started
                practice = await _signed_in(http, PRACTICE_USER)
                numbers = distinct_nhs_numbers(targets[-1])
                opened = 0
                for target in targets:
                    console.print(f"{workers} workers: opening referrals up to {target:,} ...")
                    began = time.perf_counter()
                    await submit_referrals(http, practice, numbers[opened:target], intake_rate)
                    intake = time.perf_counter() - began
                    await asyncio.to_thread(_until_assigned, engine, target)
                    assigned = time.perf_counter() - began
                    added = target - opened
                    opened = target
                    measured.append(
                        Measured(
                            workers=workers,
                            open_referrals=target,
                            intake_per_second=added / intake,
                            assigned_per_second=added / assigned,
                            rss_mib=_rss_of_children(workers),
                            temporal_db_mib=sum(
                                file.stat().st_size for file in Path(scratch).glob("temporal.db*")
                            )
                            / MIB,
                        )
                    )
    return Run(workers, starts, measured)


async def submit_referrals(
    http: httpx.AsyncClient,
    practice: dict[str, str],
    numbers: list[str],
    per_second: float | None,
) -> None:
    in_flight = asyncio.Semaphore(INTAKE_CONCURRENCY)
    began = time.perf_counter()

    async def one(index: int, nhs: str) -> None:
        if per_second is not None:
            await asyncio.sleep(began + index / per_second - time.perf_counter())
        async with in_flight:
            response = await http.post("/referrals", json=_person(nhs), headers=practice)
        if response.status_code != 201:
            raise BenchFailed(f"POST /referrals: {response.status_code} {response.text}")

    await asyncio.gather(*(one(index, nhs) for index, nhs in enumerate(numbers)))


def _until_assigned(engine: Engine, count: int) -> None:
    """Waits until the worker has given ``count`` referrals a link worker."""
    give_up = time.monotonic() + max(STEP_PATIENCE_SECONDS, count / 2)
    assigned = select(func.count()).where(col(Referral.link_worker_id).is_not(None))
    with Session(engine) as session:
        while session.execute(assigned).scalar_one() < count:
            if time.monotonic() > give_up:
                raise BenchFailed(f"fewer than {count} referrals assigned in time")
            session.rollback()  # a fresh snapshot for the next look
            time.sleep(0.2)


def _rss_of_children(workers: int) -> dict[str, float]:
    """RSS in MiB of this process's API and Temporal server and its largest worker, found by
    command; fails unless all ``workers`` still run."""
    found: dict[str, float] = {}
    workers_found = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != os.getpid():
                continue
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        name = next((n for n in ("worker", "api", "temporal") if _is(n, command)), None)
        if name is not None:
            kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
            found[name] = max(found.get(name, 0.0), int(kib) / 1024)
            workers_found += name == "worker"
    if workers_found != workers:
        raise BenchFailed(f"{workers_found} of the {workers} workers are running")
    return found


def _is(name: str, command: str) -> bool:
    if name == "temporal":
        return "server start-dev" in command
    return f"-m socialrx {name}" in command


def _print(console: Console, runs: list[Run], intake_rate: float | None) -> None:
    intake = f"at most {intake_rate:g}/s" if intake_rate else "as fast as the API takes them"
    table = Table(title=f"Fleet: referrals waiting on their deadlines, opened {intake}")
    for column in ("workers", "open", "intake/s", "assigned/s", "ratio", "worker RSS",
                   "API RSS", "Temporal RSS", "Temporal db"):  # fmt: skip
        table.add_column(column, justify="right")
    for m in (m for run in runs for m in run.measured):
        table.add_row(
            str(m.workers),
            f"{m.open_referrals:,}",
            f"{m.intake_per_second:.1f}",
            f"{m.assigned_per_second:.1f}",
            f"{m.assignment_ratio:.2f}",
            *(
                f"{m.rss_mib.get(name, float('nan')):.0f} MiB"
                for name in ("worker", "api", "temporal")
            ),
            f"{m.temporal_db_mib:.1f} MiB",
        )
    console.print(table)
    console.print("worker RSS: the largest worker's")
    for run in runs:
        for name, seconds in run.starts.items():
            console.print(f"{run.workers} workers, start: {name} {seconds:.1f} s")
    for run in runs:
        for m in run.measured:
            console.print(
                _verdict(
                    f"{run.workers} workers, at {m.open_referrals:,}: assignment / intake rate"
                    f" = {m.assignment_ratio:.2f}",
                    m.assignment_ratio >= TARGET_ASSIGNMENT_RATIO,
                )
            )
        first, last = run.measured[0], run.measured[-1]
        nan = float("nan")
        ratio = last.rss_mib.get("worker", nan) / first.rss_mib.get("worker", nan)
        console.print(
            _verdict(
                f"{run.workers} workers, worker RSS at {last.open_referrals:,} / at "
                f"{first.open_referrals:,} = {ratio:.2f}",
                ratio <= TARGET_RSS_RATIO,
            )
        )


def _verdict(line: str, met: bool) -> str:
    return f"{line} (target met)" if met else f"{line} (target missed)"
