"""Shared fixtures: a real database (SQLite, or PostgreSQL when SOCIALRX_TEST_DATABASE_URL is
set by scripts/with-postgres), migrated once per run and emptied before each test."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel

import catalogue.tables  # noqa: F401
import domain.accounts
import domain.report_tables
import domain.tables  # noqa: F401
from core.db import engine_for, migrate
from core.settings import Settings


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("SOCIALRX_TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'socialrx-test.db'}"
    )
    migrate(url)
    return url


def empty_all_tables(engine: Engine) -> None:
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # TRUNCATE passes the trigger that keeps access_log append-only. It waits for
            # every other transaction on these tables, so one left open by an earlier test
            # fails here at once, named, instead of hanging until the test times out.
            connection.execute(text("SET LOCAL lock_timeout = '15s'"))
            quoted = ", ".join(f'"{name}"' for name in tables)
            try:
                connection.execute(text(f"TRUNCATE {quoted}"))
            except OperationalError as error:
                raise AssertionError(
                    f"an earlier test left transactions open: {open_transactions(engine)}"
                ) from error
            return
        for name in tables:
            connection.execute(text(f'DELETE FROM "{name}"'))


def open_transactions(engine: Engine) -> list[tuple[object, ...]]:
    """Other sessions of this database inside a transaction: state, since when, last SQL."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT state, xact_start, left(query, 120) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND xact_start IS NOT NULL"
            )
        )
        return [tuple(row) for row in rows]


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
