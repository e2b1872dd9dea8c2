"""The API over a database holding the small known service (see tests/support/known_data.py).

Report tests only read, so each module loads the service once rather than once per test.
A module may load another small service by overriding ``known_service`` (test_filters.py).
"""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.support.known_data import load_known_service
from tests.support.reports import load_service, report_api


@pytest.fixture(scope="module")
def known_service(database_url: str) -> Engine:
    return load_service(database_url, load_known_service)


@pytest.fixture
async def api(
    known_service: Engine, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with report_api(database_url, tmp_path / "var") as http:
        yield http
