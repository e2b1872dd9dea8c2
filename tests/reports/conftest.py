"""The API over a database holding the small known service (see known_data.py).

Report tests only read, so each module loads the service once rather than once per test.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from api.main import create_app
from socialrx.db import engine_for
from socialrx.settings import Settings
from tests.conftest import empty_all_tables
from tests.reports.known_data import load_known_service


def signed_in_as(caller: str) -> dict[str, str]:
    """Headers that sign a caller in. The one place that knows how: X-Actor until accounts
    land (issue 4), whose merge changes only this."""
    return {"X-Actor": caller}


COMMISSIONER = signed_in_as("admin:icb-millbrook")


@pytest.fixture(scope="module")
def known_service(database_url: str) -> Engine:
    engine = engine_for(database_url)
    empty_all_tables(engine)
    with Session(engine) as session:
        load_known_service(session)
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
