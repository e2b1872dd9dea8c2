"""Emptying the test database between tests (SQLite or PostgreSQL)."""

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

# Every table must be in the metadata for empty_all_tables to empty it.
import catalogue.tables  # noqa: F401
import domain.accounts
import domain.report_tables
import domain.tables  # noqa: F401


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
        # On SQLite triggers keep access_log append-only: set them aside while emptying.
        triggers = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _sql in triggers:
            connection.execute(text(f'DROP TRIGGER "{name}"'))
        for name in tables:
            connection.execute(text(f'DELETE FROM "{name}"'))
        for _name, sql in triggers:
            connection.execute(text(sql))


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
