"""A database that cannot answer now makes a request answer 503 with Retry-After, quickly:
the pool is sized to the worker threads and waits briefly (core.db), then says so."""

import time
from pathlib import Path

import httpx
import pytest

import core.db
from api.main import create_app
from core.db import engine_for, migrate
from core.settings import Settings


async def _get_services(settings: Settings) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.get("/services")


async def test_an_exhausted_pool_answers_503_within_the_pool_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.db, "POOL_SIZE", 1)
    monkeypatch.setattr(core.db, "POOL_TIMEOUT_SECONDS", 0.2)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'busy.db'}")
    migrate(settings.resolved_database_url)
    engine = engine_for(settings.resolved_database_url)
    with engine.connect():  # the only connection, taken
        started = time.monotonic()
        response = await _get_services(settings)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
    assert "try again" in response.json()["detail"]
    assert time.monotonic() - started < 5
    assert (await _get_services(settings)).status_code == 200


async def test_an_unreachable_database_answers_503() -> None:
    # Port 1 on this machine: nothing listens, so connecting is refused at once.
    settings = Settings(database_url="postgresql+psycopg://socialrx@127.0.0.1:1/socialrx")
    response = await _get_services(settings)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
