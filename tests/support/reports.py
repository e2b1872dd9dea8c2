"""Report tests' callers (each with an account, signed in through POST /auth/token), a
database loaded with one small service, and the API with chosen report settings."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from accounts.credentials import add_user
from api.main import create_app
from core.db import engine_for
from core.settings import ReportSettings, Settings
from tests.support.database import empty_all_tables
from tests.support.driver import ROLES, TEST_PASSWORD

# Callers as kind:id (as in tests/support/driver.py); each has an account in the known
# service, so the tests sign in through the real POST /auth/token.
COMMISSIONER = "commissioner:millbrook-icb"
CALLERS = (
    COMMISSIONER,
    "practice:A81001",
    "organisation:org-millbrook-leisure-trust",
    "link_worker:lw-ben",
)


def username_of(caller: str) -> str:
    return caller.replace(":", "-")


def add_accounts(session: Session) -> None:
    for caller in CALLERS:
        kind, _, identifier = caller.partition(":")
        add_user(session, username_of(caller), TEST_PASSWORD, ROLES[kind], identifier)


async def signed_in_as(api: httpx.AsyncClient, caller: str) -> dict[str, str]:
    """The Authorization header of ``caller``, signed in with its password."""
    response = await api.post(
        "/auth/token", data={"username": username_of(caller), "password": TEST_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def load_service(database_url: str, load: Callable[[Session], None]) -> Engine:
    """An emptied database holding what ``load`` adds, and the callers' accounts."""
    engine = engine_for(database_url)
    empty_all_tables(engine)
    with Session(engine) as session:
        load(session)
        add_accounts(session)
    return engine


@asynccontextmanager
async def report_api(
    database_url: str, var_dir: Path, **reports: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with these report settings (e.g. ``small_numbers=3``)."""
    settings = Settings(
        database_url=database_url, var_dir=var_dir, reports=ReportSettings(**reports)
    )
    # No Temporal: reports read the database only (the lifespan that connects is not run).
    app = create_app(settings, temporal=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
        yield http
