"""The API starts while Temporal is down: the directory is served, steps answer 503 with
Retry-After at once, and /health/ready says what is down. /docs is off in production."""

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from accounts.credentials import Role, add_user
from api.main import create_app
from core.settings import Settings, TemporalConnectionSettings
from tests.support.driver import TEST_PASSWORD, person
from tests.support.system import load_directory_and_people

# Nothing listens on port 1 here: connecting is refused at once.
CLOSED_PORT = "127.0.0.1:1"


@pytest.fixture
async def http_without_temporal(
    engine: Engine, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    load_directory_and_people(engine)
    with Session(engine) as session:
        add_user(session, "practice-A81001", TEST_PASSWORD, Role.PRACTICE, "A81001")
    down = settings.model_copy(
        update={
            "temporal_address": CLOSED_PORT,
            "temporal": TemporalConnectionSettings(rpc_timeout=timedelta(seconds=1)),
        }
    )
    app = create_app(down)
    # The app's own start-up (migrations, and connecting to Temporal) runs, as under uvicorn.
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def test_the_api_serves_the_directory_while_temporal_is_down(
    http_without_temporal: httpx.AsyncClient,
) -> None:
    services = await http_without_temporal.get("/services")
    assert services.status_code == 200, services.text
    assert services.json()["contents"]


async def test_a_step_while_temporal_is_down_answers_503_with_retry_after_at_once(
    http_without_temporal: httpx.AsyncClient,
) -> None:
    token = await http_without_temporal.post(
        "/auth/token", data={"username": "practice-A81001", "password": TEST_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    started = time.monotonic()
    response = await http_without_temporal.post("/referrals", json=person(), headers=headers)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
    assert time.monotonic() - started < 5


async def test_ready_names_temporal_and_the_worker_as_down_and_live_still_answers(
    http_without_temporal: httpx.AsyncClient,
) -> None:
    ready = await http_without_temporal.get("/health/ready")
    assert ready.status_code == 503
    assert ready.headers["Retry-After"]
    body: dict[str, Any] = ready.json()
    assert body == {
        "status": "not ready",
        "database": "up",
        "temporal": "down",
        "worker": "down",
        "down": ["temporal", "worker"],
    }
    live = await http_without_temporal.get("/health/live")
    assert live.status_code == 200
    assert live.json() == {"status": "live"}


async def test_ready_names_the_database_when_it_does_not_answer() -> None:
    nowhere = Settings(
        database_url="postgresql+psycopg://socialrx@127.0.0.1:1/socialrx",
        temporal=TemporalConnectionSettings(rpc_timeout=timedelta(seconds=2)),
    )
    ready = await _get(create_app(nowhere, temporal=None), "/health/ready")
    assert ready.status_code == 503
    assert ready.json()["database"] == "down"


async def _get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.get(path)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
async def test_production_serves_no_api_docs(settings: Settings, path: str) -> None:
    production = create_app(settings.model_copy(update={"env": "production"}), temporal=None)
    assert (await _get(production, path)).status_code == 404
    development = create_app(settings.model_copy(update={"env": "dev"}), temporal=None)
    assert (await _get(development, path)).status_code == 200


def test_the_environment_comes_from_socialrx_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALRX_ENV", "production")
    assert Settings().env == "production"
    monkeypatch.setenv("SOCIALRX_ENV", "staging")
    with pytest.raises(ValueError, match="dev"):
        Settings()
