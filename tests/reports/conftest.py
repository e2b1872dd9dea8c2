"""The API over a database holding the small known service (see known_data.py)."""

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from api.main import create_app
from socialrx.settings import Settings
from tests.reports.known_data import load_known_service

COMMISSIONER = {"X-Actor": "admin:icb-millbrook"}


@pytest.fixture
async def api(engine: Engine, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    with Session(engine) as session:
        load_known_service(session)
    # No Temporal: reports read the database only (the lifespan that connects is not run).
    app = create_app(settings, temporal=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
        yield http
