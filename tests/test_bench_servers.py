"""The servers a bench starts run as deployed: with bytecode kept (outside the sources), and
on the bench's settings."""

from pathlib import Path

import pytest

from core.settings import Settings
from socialrx.bench_lifecycle import BYTECODE_CACHE, server_environment


def test_servers_keep_bytecode_in_the_scratch_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    settings = Settings(var_dir=tmp_path, database_url="sqlite:///x.db", task_queue="bench-q")
    env = server_environment(settings, "127.0.0.1:7233")
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(BYTECODE_CACHE)
    assert not BYTECODE_CACHE.is_relative_to(Path(__file__).resolve().parents[1])
    assert env["SOCIALRX_DATABASE_URL"] == "sqlite:///x.db"
    assert env["SOCIALRX_TEMPORAL_ADDRESS"] == "127.0.0.1:7233"
    assert env["SOCIALRX_TASK_QUEUE"] == "bench-q"
