"""``socialrx bench pages`` runs end to end at tiny sizes on the test database and saves both
ratios for every page it could measure (the figures are never judged here: a benchmark is
not a timed test)."""

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlmodel import Session, col
from typer.testing import CliRunner

from domain.enums import AssigneeKind, TaskStatus
from domain.tables import AuditEvent, Referral, Task
from socialrx.bench_pages import PAGES, _Statements
from socialrx.cli import app

pytestmark = pytest.mark.system


def test_bench_pages_saves_the_scale_and_json_ratios_of_each_page(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "pages.json"
    args = ["bench", "pages", "--sizes", "50,200", "--own", "20", "--requests", "3"]
    args += ["--database-url", database_url, "--output", str(output)]
    result = CliRunner().invoke(
        app,
        args,
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "scale ratio" in result.output and "page/JSON ratio" in result.output
    figures = json.loads(output.read_text())
    assert figures["sizes"] == [50, 200]
    # Every page of the table is either measured or said to be skipped (a 404 on this branch).
    assert set(figures["pages"]) | set(figures["skipped"]) == {page.name for page in PAGES}
    assert {"tasks", "organisation inbox", "practice list"} <= set(figures["pages"])
    for name, page in figures["pages"].items():
        assert page["scale_ratio"] > 0, name
        for size in ("50", "200"):
            assert (
                0
                < page["by_size"][size]["page"]["p50_ms"]
                <= page["by_size"][size]["page"]["p95_ms"]
            )
        paired = next(p for p in PAGES if p.name == name).json_path is not None
        assert (page["json_ratio"] is not None and page["json_ratio"] > 0) == paired, name
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Referral)).scalar_one() == 200
        # The pages had rows to show: the link worker's and the organisation's open tasks.
        for kind in (AssigneeKind.LINK_WORKER, AssigneeKind.ORGANISATION):
            open_tasks = select(func.count()).where(
                col(Task.assignee_kind) == kind, col(Task.status) == TaskStatus.OPEN
            )
            assert session.execute(open_tasks).scalar_one() > 0, kind
        assert session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() >= 200


def test_bench_pages_refuses_sizes_it_cannot_compare(database_url: str) -> None:
    result = CliRunner().invoke(
        app, ["bench", "pages", "--sizes", "1000", "--database-url", database_url]
    )
    assert result.exit_code != 0
    assert "two sizes" in result.output


def test_the_plan_of_a_statement_run_for_many_rows_is_of_its_first_row() -> None:
    # A page's slowest statement can be the access log's insert of every row shown, run as
    # one executemany; EXPLAIN takes one row's parameters, and used to fail on the list.
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE seen (referral INTEGER, who TEXT)"))
    statements = _Statements(engine)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO seen VALUES (:referral, :who)"),
            [{"referral": 1, "who": "a"}, {"referral": 2, "who": "b"}],
        )
    (insert,) = [s for s in statements.take() if s.sql.startswith("INSERT")]
    assert insert.parameters == (1, "a")
    assert isinstance(statements.explain(insert), str)
