"""``socialrx catalogue import|export`` on the real command line parser."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from catalogue.search_index import tokenize
from core.settings import get_settings
from socialrx.cli import app
from tests.support.hsds import HSDS, load_json, town_service

runner = CliRunner()


@pytest.fixture
def cli_database(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("SOCIALRX_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_import_reports_rejections_and_exits_non_zero(cli_database: None, tmp_path: Path) -> None:
    path = tmp_path / "mixed.ndjson"
    path.write_text(
        json.dumps(town_service("svc-good")) + "\n" + '{"id": "svc-bad", "status": 3}\n'
    )
    result = runner.invoke(app, ["catalogue", "import", str(path)])
    assert result.exit_code == 1
    assert "imported 1 service; rejected 1" in result.stdout
    assert "rejected line 2 (id svc-bad): does not match the HSDS 3.0 service schema" in (
        result.stderr
    )


def test_import_of_a_malformed_file_says_so(cli_database: None, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{")
    result = runner.invoke(app, ["catalogue", "import", str(path)])
    assert result.exit_code == 1
    assert "cannot import:" in result.stderr and "not valid JSON" in result.stderr


def test_export_writes_what_import_reads(cli_database: None, tmp_path: Path) -> None:
    imported = runner.invoke(app, ["catalogue", "import", str(HSDS / "examples_service_full.json")])
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "directory.json"
    exported = runner.invoke(app, ["catalogue", "export", str(out), "--format", "json"])
    assert exported.exit_code == 0, exported.output
    page = json.loads(out.read_text())
    assert page["total_items"] == 1
    assert page["contents"][0]["name"] == load_json("examples_service_full.json")["name"]
    again = runner.invoke(app, ["catalogue", "import", str(out)])
    assert again.exit_code == 0 and "imported 1 service; rejected 0" in again.stdout


def test_search_words_are_folded() -> None:
    assert tokenize("Café & Crèche: the CAFÉ's 2 rooms") == ["cafe", "creche", "the", "2", "rooms"]
