"""``socialrx bench fleet`` runs end to end at tiny sizes, with the worker and API as
processes of their own, and prints each process's memory and both ratios (the figures are
never judged here: a benchmark is not a timed test)."""

import asyncio
import re
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from socialrx.bench_fleet import submit_referrals
from socialrx.cli import app

pytestmark = pytest.mark.system


def test_bench_fleet_prints_memory_database_size_and_the_ratios(tmp_path: Path) -> None:
    # Two workers, as production scales out: both poll the one task queue.
    args = ["bench", "fleet", "--sizes", "3,6", "--workers", "2", "--intake-rate", "20"]
    args += ["--database-url", f"sqlite:///{tmp_path / 'fleet.db'}"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    # Every process was found: a memory figure in MiB, never "nan".
    assert len(re.findall(r"\d+ MiB", result.output)) >= 2 * 4
    assert "nan" not in result.output
    for size in (3, 6):
        assert f"2 workers, at {size}: assignment / intake rate = " in result.output
    assert "2 workers, worker RSS at 6 / at 3 = " in result.output
    assert "opened at most 20/s" in result.output


def test_bench_fleet_refuses_sizes_that_do_not_grow() -> None:
    result = CliRunner().invoke(app, ["bench", "fleet", "--sizes", "10,5"])
    assert result.exit_code == 2
    assert "--sizes must be increasing" in result.output


@pytest.mark.parametrize(
    ("workers", "refusal"),
    [
        ("0", "--workers takes numbers above zero"),
        ("two", "--workers takes whole numbers"),
        ("1,2", "--database-url takes one --workers count"),
    ],
)
def test_bench_fleet_refuses_worker_counts_it_cannot_run(workers: str, refusal: str) -> None:
    args = ["bench", "fleet", "--sizes", "3", "--workers", workers]
    result = CliRunner().invoke(app, [*args, "--database-url", "sqlite:///unused.db"])
    assert result.exit_code == 2
    assert refusal in result.output


def test_bench_fleet_opens_no_faster_than_the_intake_rate() -> None:
    opened: list[float] = []

    async def accept(request: httpx.Request) -> httpx.Response:
        opened.append(time.perf_counter())
        return httpx.Response(201, json={})

    async def open_five() -> None:
        transport = httpx.MockTransport(accept)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            await submit_referrals(http, {}, [str(n) for n in range(5)], per_second=20)

    asyncio.run(open_five())
    # Five referrals at 20/s: the last no sooner than 4/20 s after the first.
    assert len(opened) == 5
    assert opened[-1] - opened[0] >= 4 / 20 - 0.01
