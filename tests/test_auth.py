"""Signing in, sessions, API keys and the demo accounts, through the real API and database."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from accounts.credentials import (
    AccountError,
    Role,
    add_user,
    create_api_key,
    deactivate,
    revoke_api_key,
    set_password,
)
from api.main import create_app
from core.db import engine_for
from core.settings import Settings
from domain.accounts import ApiKey, SignInSession, UserAccount
from domain.tables import utcnow
from socialrx.demo_accounts import DEMO_API_KEY, DEMO_PASSWORD, DEMO_USERS
from socialrx.seed import load_demo_data
from tests.support.database import empty_all_tables

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def engine(database_url: str) -> Engine:
    """The demo data, loaded once for this module: each test uses accounts of its own."""
    engine = engine_for(database_url)
    empty_all_tables(engine)
    with Session(engine) as session:
        load_demo_data(session)
    return engine


@pytest.fixture
async def client(
    engine: Engine, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    # No Temporal: these routes never need it. ASGITransport runs no lifespan.
    settings = Settings(database_url=database_url, var_dir=tmp_path)
    app = create_app(settings, temporal=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://socialrx.test") as http:
        yield http


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get("/auth/me", headers=headers)


async def test_every_demo_account_signs_in_as_its_organisation(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    expected = {
        "gp-a81001": ("practice", "A81001", None),
        "lw-carys": ("link_worker_team", "millbrook-pcn", "lw-carys"),
        "org-millbrook-leisure-trust": (
            "organisation",
            "org-millbrook-leisure-trust",
            None,
        ),
        "commissioner": ("commissioner", "millbrook-icb", None),
    }
    for username, _, _ in DEMO_USERS:
        token = await sign_in(client, username, DEMO_PASSWORD)
        assert token.json()["token_type"] == "bearer"
        assert token.json()["expires_in"] == 3600
        who = (await me(client, bearer(token))).json()
        assert who["subject"] == username
        if username in expected:
            kind, organisation, link_worker = expected[username]
            assert (who["organisation_kind"], who["organisation_id"]) == (kind, organisation)
            assert who["link_worker_id"] == link_worker
    # Loading the demo again changes nothing and fails on nothing.
    with Session(engine) as session:
        before = len(session.exec(select(UserAccount)).all())
        load_demo_data(session)
        assert len(session.exec(select(UserAccount)).all()) == before


async def test_the_demo_key_works_in_either_header(client: httpx.AsyncClient) -> None:
    for headers in ({"X-API-Key": DEMO_API_KEY}, {"Authorization": f"Bearer {DEMO_API_KEY}"}):
        who = (await me(client, headers)).json()
        assert who == {
            "subject": "key:demo-a81001",
            "organisation_kind": "practice",
            "organisation_id": "A81001",
            "link_worker_id": None,
        }


async def test_wrong_or_unknown_credentials_get_401_that_says_how_to_sign_in(
    client: httpx.AsyncClient,
) -> None:
    wrong = await sign_in(client, "gp-a81001", "not the password")
    unknown = await sign_in(client, "nobody", DEMO_PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json(), "the answer must not tell which user names exist"
    missing_form = await client.post("/auth/token", data={"username": "gp-a81001"})
    assert missing_form.status_code == 422
    assert missing_form.json()["detail"][0]["loc"] == ["body", "password"]
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer srx_"},
        {"X-API-Key": "srx_demo-a81001_wrong-secret"},
        {"X-API-Key": "srx_nokey"},
        {"Cookie": "socialrx_session=forged"},
    ):
        response = await me(client, headers)
        assert response.status_code == 401, headers
        assert "/auth/token" in response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"


async def test_secrets_are_stored_only_as_hashes(client: httpx.AsyncClient, engine: Engine) -> None:
    token = (await sign_in(client, "gp-a81001", DEMO_PASSWORD)).json()["access_token"]
    with Session(engine) as session:
        _, key = create_api_key(session, Role.PRACTICE, "A81002", "EMIS")
        user = session.get(UserAccount, "gp-a81001")
        assert user is not None and user.password_hash.startswith("$argon2id$")
        stored = [repr(row) for row in session.exec(select(SignInSession)).all()]
        stored += [repr(row) for row in session.exec(select(ApiKey)).all()]
    assert not any(token in row or key.split("_", 2)[2] in row for row in stored)
    assert DEMO_PASSWORD not in user.password_hash


async def test_the_cookie_signs_in_web_pages(client: httpx.AsyncClient) -> None:
    response = await sign_in(client, "lw-amira", DEMO_PASSWORD)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"socialrx_session={response.json()['access_token']};")
    for attribute in ("HttpOnly", "SameSite=strict", "Secure", "Max-Age=3600"):
        assert attribute in cookie
    # httpx keeps it, as a browser would, and sends it back: a page takes it...
    page = await client.get("/tasks")
    assert page.status_code == 200
    assert "<h1>Your tasks</h1>" in page.text
    # ...the JSON API does not (bearer or API key there): a page elsewhere cannot drive it.
    who = await client.get("/auth/me")
    assert who.status_code == 401
    assert (await me(client, bearer(response))).json()["subject"] == "lw-amira"


async def test_signing_out_ends_the_token_and_the_cookie(client: httpx.AsyncClient) -> None:
    headers = bearer(await sign_in(client, "gp-a81001", DEMO_PASSWORD))
    out = await client.post("/auth/sign-out", headers=headers)
    assert out.json() == {"signed_out": True}
    client.cookies.clear()
    ended = await me(client, headers)
    assert ended.status_code == 401
    assert "expired or ended" in ended.json()["detail"]


async def test_an_expired_session_is_refused(client: httpx.AsyncClient, engine: Engine) -> None:
    headers = bearer(await sign_in(client, "gp-a81002", DEMO_PASSWORD))
    client.cookies.clear()
    with Session(engine) as session:
        mine = select(SignInSession).where(SignInSession.username == "gp-a81002")
        for row in session.exec(mine).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
            session.add(row)
        session.commit()
    assert (await me(client, headers)).status_code == 401


async def test_new_password_or_deactivation_ends_sessions(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    with Session(engine) as session:
        add_user(session, "reception", PASSWORD, Role.PRACTICE, "A81002")
    old = bearer(await sign_in(client, "reception", PASSWORD))
    client.cookies.clear()
    with Session(engine) as session:
        set_password(session, "reception", "another long password")
    assert (await me(client, old)).status_code == 401
    assert (await sign_in(client, "reception", PASSWORD)).status_code == 401
    new = bearer(await sign_in(client, "reception", "another long password"))
    client.cookies.clear()
    with Session(engine) as session:
        deactivate(session, "reception")
    assert (await me(client, new)).status_code == 401
    assert (await sign_in(client, "reception", "another long password")).status_code == 401


async def test_a_revoked_key_is_refused(client: httpx.AsyncClient, engine: Engine) -> None:
    with Session(engine) as session:
        key, plain = create_api_key(
            session, Role.ORGANISATION, "org-millbrook-leisure-trust", "booking tool"
        )
    headers = {"X-API-Key": plain}
    assert (await me(client, headers)).json()["organisation_id"] == "org-millbrook-leisure-trust"
    with Session(engine) as session:
        revoke_api_key(session, key.id)
    refused = await me(client, headers)
    assert refused.status_code == 401
    assert "unknown or revoked" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("role", "identifier", "password", "message"),
    [
        (Role.PRACTICE, "Z99999", PASSWORD, "no practice 'Z99999'"),
        (Role.LINK_WORKER, "lw-nobody", PASSWORD, "no link worker 'lw-nobody'"),
        (Role.ORGANISATION, "org-nobody", PASSWORD, "no organisation 'org-nobody'"),
        (Role.COMMISSIONER, "", PASSWORD, "must not be empty"),
        (Role.PRACTICE, "A81001", "short", "at least 10 characters"),
        (Role.PRACTICE, "A81001", PASSWORD, "exists already"),
    ],
)
async def test_accounts_are_checked_before_they_are_made(
    client: httpx.AsyncClient,
    engine: Engine,
    role: Role,
    identifier: str,
    password: str,
    message: str,
) -> None:
    username = "gp-a81001" if message == "exists already" else "newcomer"
    with Session(engine) as session, pytest.raises(AccountError, match=message):
        add_user(session, username, password, role, identifier)
    with Session(engine) as session, pytest.raises(AccountError, match="use link_worker_team"):
        create_api_key(session, Role.LINK_WORKER, "lw-amira", "phone app")
