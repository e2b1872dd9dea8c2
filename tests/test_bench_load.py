"""``socialrx bench load`` runs end to end at a tiny size, with the worker and API as
processes of their own, and prints every ratio (the figures are never judged here: a
benchmark is not a timed test)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialrx.bench_load import STEPS
from socialrx.cli import app

pytestmark = pytest.mark.system


def test_bench_load_prints_percentiles_ratios_and_the_5xx_count(tmp_path: Path) -> None:
    args = ["bench", "load", "--quick", "--requests", "3"]
    args += ["--database-url", f"sqlite:///{tmp_path / 'load.db'}"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for concurrency in (1, 4):
        assert f"concurrency {concurrency}: intake p99 / cheap route p99 = " in result.output
        for step in STEPS:
            assert f"concurrency {concurrency}: {step} p95 / bare update p95 = " in result.output
    # Every request answered: a 5xx would be a bug whatever the timings.
    assert "5xx answers: 0 (target met)" in result.output
    assert "connections dropped without an answer: 0 (target met)" in result.output
