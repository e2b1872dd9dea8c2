"""The API over a database holding the small known service (see known_data.py).

Report tests only read, so each module loads the service once rather than once per test.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from api.credentials import add_user
from api.main import create_app
from socialrx.db import engine_for
from socialrx.settings import Settings
from tests.conftest import empty_all_tables
from tests.referrals.driver import ROLES, TEST_PASSWORD
from tests.reports.known_data import load_known_service

# Callers as kind:id (as in tests/referrals/driver.py); each has an account in the known
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


@pytest.fixture(scope="module")
def known_service(database_url: str) -> Engine:
    engine = engine_for(database_url)
    empty_all_tables(engine)
    with Session(engine) as session:
        load_known_service(session)
        add_accounts(session)
    return engine


@pytest.fixture
async def api(
    known_service: Engine, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, var_dir=tmp_path / "var")
    # No Temporal: reports read the database only (the lifespan that connects is not run).
    app = create_app(settings, temporal=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
        yield http
