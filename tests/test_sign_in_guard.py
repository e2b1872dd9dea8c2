"""Sign-in throttling, the cap on concurrent password hashing, and the access log of failed
sign-ins, through the real POST /auth/token and sign-in page on the real database."""

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

import accounts.sign_in
from accounts import credentials
from accounts.credentials import Role, add_user
from api.main import create_app
from core.settings import Settings, SignInSettings
from domain.accounts import AccessLog, SignInThrottle
from domain.tables import utcnow
from socialrx.demo import load_demo_people

PASSWORD = "a long enough password"
WRONG = "not the password at all"
GUARD = SignInSettings(
    user_failures_before_lock=3,
    address_failures_before_lock=6,
    lock=timedelta(minutes=1),
    lock_max=timedelta(minutes=10),
    forget_failures_after=timedelta(minutes=15),
)


@pytest.fixture
def accounts_engine(engine: Engine) -> Engine:
    with Session(engine) as session:
        load_demo_people(session)
        for name in ("amira", "ben", "carys"):
            add_user(session, name, PASSWORD, Role.PRACTICE, "A81001")
    return engine


def _app_settings(database_url: str, tmp_path: Path, guard: SignInSettings) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path, sign_in=guard)


@pytest.fixture
def make_client(
    accounts_engine: Engine, database_url: str, tmp_path: Path
) -> Iterator[Callable[..., httpx.AsyncClient]]:
    """Clients of one app (one process), each from its own address."""
    app = create_app(_app_settings(database_url, tmp_path, GUARD), temporal=None)

    def client(address: str = "192.0.2.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="https://socialrx.test")

    yield client


@pytest.fixture
async def client(make_client: Callable[..., httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as http:
        yield http


class Clock:
    """Moves the sign-in guard's idea of now, as if time had passed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = timedelta(0)
        monkeypatch.setattr(accounts.sign_in, "utcnow", lambda: utcnow() + self.offset)

    def advance(self, by: timedelta) -> None:
        self.offset += by


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


def log_rows(engine: Engine, subject: str) -> list[AccessLog]:
    with Session(engine) as session:
        query = select(AccessLog).where(AccessLog.subject == subject)
        return list(session.exec(query.order_by(col(AccessLog.id))).all())


async def test_a_user_name_locks_after_n_failures_even_for_the_right_password(
    client: httpx.AsyncClient, accounts_engine: Engine
) -> None:
    for _ in range(GUARD.user_failures_before_lock):
        assert (await sign_in(client, "amira", WRONG)).status_code == 401
    locked = await sign_in(client, "amira", PASSWORD)
    assert locked.status_code == 429
    assert 55 <= int(locked.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins" in locked.json()["detail"]
    assert "Wait a minute" in locked.json()["detail"]
    # Another user from the same address is not locked by amira's failures.
    assert (await sign_in(client, "ben", PASSWORD)).status_code == 200


async def test_every_api_process_sees_the_same_lock(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    for _ in range(GUARD.user_failures_before_lock):
        await sign_in(client, "amira", WRONG)
    # Another process: its own app, its own engine and pool; only the database is shared.
    other = create_app(_app_settings(database_url, tmp_path, GUARD), temporal=None)
    transport = httpx.ASGITransport(app=other, client=("203.0.113.5", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="https://socialrx.test") as http:
        assert (await sign_in(http, "amira", PASSWORD)).status_code == 429


async def test_the_lock_lifts_after_its_time_and_doubles_with_each_further_failure(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    for _ in range(GUARD.user_failures_before_lock):
        await sign_in(client, "amira", WRONG)
    assert (await sign_in(client, "amira", PASSWORD)).status_code == 429
    clock.advance(timedelta(seconds=61))
    # One more wrong guess once the lock lifts: locked again, for twice as long.
    assert (await sign_in(client, "amira", WRONG)).status_code == 401
    again = await sign_in(client, "amira", PASSWORD)
    assert again.status_code == 429 and 115 <= int(again.headers["Retry-After"]) <= 120
    clock.advance(timedelta(seconds=121))
    assert (await sign_in(client, "amira", PASSWORD)).status_code == 200
    # Success forgives the name's failures: the next mistake does not lock it at once.
    assert (await sign_in(client, "amira", WRONG)).status_code == 401
    assert (await sign_in(client, "amira", PASSWORD)).status_code == 200


async def test_the_lock_never_exceeds_its_maximum(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    for _ in range(GUARD.user_failures_before_lock + 8):
        await sign_in(client, "amira", WRONG)
        clock.advance(GUARD.lock_max + timedelta(seconds=1))
    await sign_in(client, "amira", WRONG)
    locked = await sign_in(client, "amira", PASSWORD)
    assert int(locked.headers["Retry-After"]) == int(GUARD.lock_max.total_seconds())


async def test_failures_are_forgotten_a_while_after_the_last_one(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, accounts_engine: Engine
) -> None:
    clock = Clock(monkeypatch)
    for _ in range(GUARD.user_failures_before_lock - 1):
        await sign_in(client, "amira", WRONG)
    clock.advance(GUARD.forget_failures_after + timedelta(seconds=1))
    assert (await sign_in(client, "amira", WRONG)).status_code == 401
    assert (await sign_in(client, "amira", PASSWORD)).status_code == 200
    # And the rows of forgotten failures are pruned: the table stays small.
    clock.advance(GUARD.forget_failures_after + timedelta(seconds=1))
    await sign_in(client, "carys", WRONG)
    with Session(accounts_engine) as session:
        keys = session.exec(select(SignInThrottle)).all()
    assert len(keys) == 2  # carys's name and the address, just now


async def test_one_address_locks_after_failures_across_user_names(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with make_client("198.51.100.7") as attacker, make_client("192.0.2.9") as other:
        names = [f"guess-{n}" for n in range(GUARD.address_failures_before_lock)]
        for name in names:
            assert (await sign_in(attacker, name, WRONG)).status_code == 401
        assert (await sign_in(attacker, "amira", PASSWORD)).status_code == 429
        # Amira, from her own address, is not locked out by someone else's guessing.
        assert (await sign_in(other, "amira", PASSWORD)).status_code == 200


async def test_failed_sign_ins_of_accounts_are_in_the_access_log_without_the_password(
    client: httpx.AsyncClient, accounts_engine: Engine
) -> None:
    for _ in range(GUARD.user_failures_before_lock):
        await sign_in(client, "amira", WRONG)
    await sign_in(client, "amira", PASSWORD)
    rows = log_rows(accounts_engine, "amira")
    wrong = "POST /auth/token: refused, wrong password or inactive"
    locked = "POST /auth/token: refused, locked after failed sign-ins"
    assert [row.action for row in rows] == [wrong] * GUARD.user_failures_before_lock + [locked]
    assert {(row.organisation_kind, row.organisation_id) for row in rows} == {
        ("practice", "A81001")
    }
    # A name that is no account may be anything typed (even a password): never logged.
    await sign_in(client, "my secret phrase", WRONG)
    with Session(accounts_engine) as session:
        everything = session.exec(select(AccessLog)).all()
    text = repr([(row.subject, row.organisation_id, row.action) for row in everything])
    assert WRONG not in text and PASSWORD not in text and "my secret phrase" not in text


async def test_a_successful_sign_in_is_not_logged_as_failed(
    client: httpx.AsyncClient, accounts_engine: Engine
) -> None:
    assert (await sign_in(client, "amira", PASSWORD)).status_code == 200
    assert log_rows(accounts_engine, "amira") == []


# --- the cap on password hashing ----------------------------------------------------------


class CountingVerify:
    """Stands in for argon2's verify: slow, and counts how many run at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()
        self._real = credentials.PASSWORDS.verify

    def __call__(self, password: str, hashed: str) -> bool:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.seconds)
            return self._real(password, hashed)
        finally:
            with self._lock:
                self.running -= 1


async def _flood(
    accounts_engine: Engine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    guard: SignInSettings,
    verify: CountingVerify,
    count: int,
) -> list[httpx.Response]:
    monkeypatch.setattr(credentials.PASSWORDS, "verify", verify)
    app = create_app(_app_settings(database_url, tmp_path, guard), temporal=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://socialrx.test") as http:
        return await asyncio.gather(*(sign_in(http, "amira", PASSWORD) for _ in range(count)))


async def test_at_most_k_passwords_are_hashed_at_once(
    accounts_engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify = CountingVerify(seconds=0.1)
    guard = GUARD.model_copy(update={"hashing_concurrency": 2, "hashing_wait": timedelta(10)})
    responses = await _flood(accounts_engine, database_url, tmp_path, monkeypatch, guard, verify, 8)
    assert [response.status_code for response in responses] == [200] * 8
    assert verify.most == 2


async def test_a_sign_in_that_waits_too_long_for_its_turn_gets_503_with_retry_after(
    accounts_engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify = CountingVerify(seconds=0.5)
    guard = GUARD.model_copy(
        update={"hashing_concurrency": 1, "hashing_wait": timedelta(seconds=0.1)}
    )
    responses = await _flood(accounts_engine, database_url, tmp_path, monkeypatch, guard, verify, 4)
    codes = sorted(response.status_code for response in responses)
    assert codes[0] == 200 and 503 in codes
    busy = next(response for response in responses if response.status_code == 503)
    assert busy.headers["Retry-After"] == "5"
    assert "busy" in busy.json()["detail"]
    assert verify.most == 1


# --- the sign-in page ---------------------------------------------------------------------


def test_the_sign_in_page_says_plainly_when_a_user_name_is_locked(
    accounts_engine: Engine, database_url: str, tmp_path: Path
) -> None:
    app = create_app(_app_settings(database_url, tmp_path, GUARD), temporal=None)
    browser = TestClient(app, base_url="https://socialrx.test")
    page = browser.get("/sign-in").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    def attempt(password: str) -> httpx.Response:
        form = {"username": "amira", "password": password, "csrf_token": token}
        return browser.post("/sign-in", data=form, follow_redirects=False)

    for _ in range(GUARD.user_failures_before_lock):
        assert attempt(WRONG).status_code == 401
    locked = attempt(PASSWORD)
    assert locked.status_code == 429
    assert locked.headers["Retry-After"]
    assert "Too many failed sign-ins for this user name or from this address" in locked.text
    assert "Wait a minute, then try again." in locked.text
    assert "socialrx_session" not in locked.cookies
    rows = log_rows(accounts_engine, "amira")
    assert rows[-1].action == "POST /sign-in: refused, locked after failed sign-ins"


def test_throttle_rows_never_hold_the_name_or_address_typed(
    accounts_engine: Engine, database_url: str, tmp_path: Path
) -> None:
    app = create_app(_app_settings(database_url, tmp_path, GUARD), temporal=None)
    TestClient(app).post("/auth/token", data={"username": "amira", "password": WRONG})
    with Session(accounts_engine) as session:
        rows = session.exec(select(SignInThrottle)).all()
    assert len(rows) == 2
    assert all(len(row.key) == 64 and "amira" not in row.key for row in rows)
    assert all(isinstance(row.last_failure_at, datetime) for row in rows)
