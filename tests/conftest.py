"""Shared fixtures: a real database (SQLite, or PostgreSQL when SOCIALRX_TEST_DATABASE_URL is
set by scripts/with-postgres), migrated once per run and emptied before each test; real Temporal
servers, one of each kind per run; and the `system` and `workflow` markers.

Fixtures live here and in the other conftest.py files, and are never imported from them: pytest
hands them to the tests that name them. Helpers that tests import live in tests/support/.
"""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

import accounts.credentials
from core.db import engine_for, migrate
from core.settings import Settings
from tests.support.database import empty_all_tables
from tests.support.temporal_env import start_dev_server, start_time_skipping

# A test that uses any of these fixtures (directly or through another fixture) starts a
# Temporal server with a worker and the API, or the whole `socialrx dev`: it is a system test.
SYSTEM_FIXTURES = frozenset({"time_skipping_env", "dev_server_env"})
TESTS = Path(__file__).parent

# Still argon2id, with the cheapest parameters: each test signs in, and the production cost
# (about 0.2 s of CPU a hash) made signing in most of the fast set's time. Hashes made with
# the production parameters verify all the same; `socialrx` processes that tests start keep them.
accounts.credentials.PASSWORDS = PasswordHash(
    (Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)
)
WORKFLOW_TESTS = TESTS / "workflows"


# Playwright's fixtures: a test that takes one drives a real browser.
BROWSER_FIXTURES = {"new_context", "context", "page", "browser"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark system tests (`pytest -m "not system"` is the fast set) and workflow-only tests.

    Workflow-only tests start just a time-skipping server with fake activities and take
    seconds, so they stay in the fast set unless a module marks them `system` itself.
    """
    for item in items:
        if BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
        if item.path.is_relative_to(WORKFLOW_TESTS):
            item.add_marker(pytest.mark.workflow)
            continue
        if SYSTEM_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.system)
    if os.environ.get("SOCIALRX_TEST_DATABASE_URL"):
        # The PostgreSQL run (scripts/with-postgres) is for what PostgreSQL can change: a test
        # that never opens the test database would only run a second time, as it did on SQLite.
        unused = [i for i in items if "database_url" not in getattr(i, "fixturenames", ())]
        if unused:
            config.hook.pytest_deselected(items=unused)
            items[:] = [i for i in items if i not in unused]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("SOCIALRX_TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'socialrx-test.db'}"
    )
    migrate(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = engine_for(database_url)
    empty_all_tables(engine)
    return engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var")


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_time_skipping()
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()
