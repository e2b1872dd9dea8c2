"""``socialrx seed --synthetic`` and ``socialrx bench reports`` run end to end (tiny N; the
bench's figures are printed, never judged here)."""

from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

from core.db import engine_for
from domain.report_tables import OutcomeChange, ReferralMilestone
from domain.tables import Person, Practice, Referral
from reports.filters import ReportFilter
from reports.funnel import funnel
from reports.small_numbers import NONE
from socialrx.cli import app

# Whole benchmark runs, one against its own PostgreSQL cluster: system tests.
pytestmark = pytest.mark.system


def test_seed_synthetic_fills_the_read_model_with_labelled_referrals(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    result = CliRunner().invoke(
        app, ["seed", "--synthetic", "300"], env={"SOCIALRX_DATABASE_URL": url, "COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.output
    assert "300 synthetic referrals added" in result.output
    with Session(engine_for(url)) as session:
        count = session.execute(select(func.count()).select_from(Referral)).scalar_one()
        assert count == 300
        labelled = session.execute(
            select(func.count()).where(ReferralMilestone.synthetic)  # type: ignore[arg-type]
        ).scalar_one()
        assert labelled == 300
        # Nobody real: every person is "Synthetic Person" with a never-issued 999 number.
        people = session.scalars(select(Person)).all()
        assert len(people) == 300
        assert {(p.given_name, p.family_name) for p in people} == {("Synthetic", "Person")}
        assert all(p.nhs_number.startswith("999") for p in people)
        assert session.get(Practice, "SYN001") is not None
        assert "Synthetic" in session.get(Practice, "SYN001").name  # type: ignore[union-attr]
        stages = [s.count or 0 for s in funnel(session, ReportFilter(), NONE).stages]
        # Realistic drop-off: every stage holds no more than the one before.
        assert stages[0] == 300 and all(a >= b for a, b in pairwise(stages))
        assert stages[5] > 0
        assert session.execute(select(func.count()).select_from(OutcomeChange)).scalar_one() > 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bench_reports_prints_p50_p95_and_the_ratio(backend: str, database_url: str) -> None:
    if backend == "postgresql" and not database_url.startswith("postgresql"):
        pytest.skip("runs under scripts/with-postgres (the bench's own cluster is not started)")
    args = ["bench", "reports", "--small", "40", "--large", "80", "--runs", "1"]
    args += ["--backend", backend]
    env = {"COLUMNS": "200"}
    if backend == "postgresql":
        # A scratch database of its own on the test cluster.
        from sqlalchemy import create_engine, text

        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS socialrx_bench_smoke"))
            connection.execute(text("CREATE DATABASE socialrx_bench_smoke"))
        admin.dispose()
        env["SOCIALRX_BENCH_POSTGRES_URL"] = database_url.replace(
            "/socialrx_test", "/socialrx_bench_smoke"
        )
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert f"reports on {backend}" in result.output
    for report in ("funnel", "outcomes", "waits", "uptake", "volumes", "roi", "commissioner.html"):
        assert report in result.output
    assert "p50 ratio" in result.output
    assert f"{backend} at 80: commissioner.html p50 / slowest JSON report's p50" in result.output
    assert "warm" in result.output and "cold" in result.output
