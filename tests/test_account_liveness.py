"""What an account may do is read live: a link worker made inactive can no longer sign in or
use a session, their team is the one they are in now, and an API key expires and records
its last use. Through the real API and database."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from accounts import credentials
from accounts.credentials import Role, add_user, create_api_key
from api.main import create_app
from core.settings import Settings
from domain.accounts import ApiKey
from domain.tables import LinkWorker, LinkWorkerTeam, utcnow
from socialrx.demo import TEAM_ID, load_demo_people

PASSWORD = "a long enough password"


@pytest.fixture
def people(engine: Engine) -> Engine:
    with Session(engine) as session:
        load_demo_people(session)
        session.add(LinkWorkerTeam(id="eastside-pcn", name="Eastside team"))
        session.commit()
        add_user(session, "amira", PASSWORD, Role.LINK_WORKER, "lw-amira")
    return engine


@pytest.fixture
async def client(
    people: Engine, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url, var_dir=tmp_path), temporal=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://socialrx.test") as http:
        yield http


async def sign_in(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/auth/token", data={"username": "amira", "password": PASSWORD})


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def change_worker(engine: Engine, **values: object) -> None:
    with Session(engine) as session:
        worker = session.get(LinkWorker, "lw-amira")
        assert worker is not None
        for name, value in values.items():
            setattr(worker, name, value)
        session.add(worker)
        session.commit()


async def test_an_inactive_link_worker_cannot_sign_in_and_their_session_ends(
    client: httpx.AsyncClient, people: Engine
) -> None:
    headers = bearer(await sign_in(client))
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    change_worker(people, active=False)
    ended = await client.get("/auth/me", headers=headers)
    assert ended.status_code == 401 and "expired or ended" in ended.json()["detail"]
    assert (await sign_in(client)).status_code == 401
    change_worker(people, active=True)
    assert (await sign_in(client)).status_code == 200


def test_an_inactive_link_worker_cannot_sign_in_on_the_page(
    people: Engine, database_url: str, tmp_path: Path
) -> None:
    change_worker(people, active=False)
    app = create_app(Settings(database_url=database_url, var_dir=tmp_path), temporal=None)
    browser = TestClient(app, base_url="https://socialrx.test")
    page = browser.get("/sign-in").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {"username": "amira", "password": PASSWORD, "csrf_token": token}
    refused = browser.post("/sign-in", data=form, follow_redirects=False)
    assert refused.status_code == 401 and "socialrx_session" not in refused.cookies


async def test_a_link_workers_team_is_the_one_they_are_in_now(
    client: httpx.AsyncClient, people: Engine
) -> None:
    headers = bearer(await sign_in(client))
    who = (await client.get("/auth/me", headers=headers)).json()
    assert (who["organisation_kind"], who["organisation_id"]) == ("link_worker_team", TEAM_ID)
    change_worker(people, team_id="eastside-pcn")
    # The same session, the same account: the new team at once, without signing in again.
    who = (await client.get("/auth/me", headers=headers)).json()
    assert (who["organisation_id"], who["link_worker_id"]) == ("eastside-pcn", "lw-amira")
    # Their old team's colleagues are no longer theirs to see.
    colleague = await client.get("/link-workers/lw-ben/tasks", headers=headers)
    assert colleague.status_code == 404


async def test_an_expired_key_is_refused(client: httpx.AsyncClient, people: Engine) -> None:
    with Session(people) as session:
        key, plain = create_api_key(
            session, Role.PRACTICE, "A81001", "EMIS", expires_at=utcnow() + timedelta(hours=1)
        )
        assert (await client.get("/auth/me", headers={"X-API-Key": plain})).status_code == 200
        key.expires_at = utcnow() - timedelta(seconds=1)
        session.add(key)
        session.commit()
    refused = await client.get("/auth/me", headers={"X-API-Key": plain})
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


async def test_a_keys_last_use_is_recorded_at_most_once_a_minute(
    client: httpx.AsyncClient, people: Engine
) -> None:
    with Session(people) as session:
        key, plain = create_api_key(session, Role.PRACTICE, "A81001", "EMIS")
    assert key.last_used_at is None

    def last_used() -> datetime | None:
        with Session(people) as session:
            found = session.get(ApiKey, key.id)
            assert found is not None
            return found.last_used_at

    before = utcnow()
    assert (await client.get("/auth/me", headers={"X-API-Key": plain})).status_code == 200
    first = last_used()
    assert first is not None and first >= before.replace(microsecond=0)
    assert (await client.get("/auth/me", headers={"X-API-Key": plain})).status_code == 200
    assert last_used() == first  # within the minute: not written again
    with Session(people) as session:
        stale = utcnow() - credentials.KEY_USE_RECORDED_EVERY - timedelta(seconds=1)
        found = session.get(ApiKey, key.id)
        assert found is not None
        found.last_used_at = stale
        session.add(found)
        session.commit()
    assert (await client.get("/auth/me", headers={"X-API-Key": plain})).status_code == 200
    latest = last_used()
    assert latest is not None and latest > stale + timedelta(seconds=1)
