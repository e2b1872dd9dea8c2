"""The database engine, sessions and migrations."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"

# As many connections as worker threads that can hold one: anyio runs at most 40 at once
# (its default limiter), and the API does its database work only there. A request that
# still finds no free connection waits this long, then answers 503 (api.errors), instead of
# hanging for SQLAlchemy's default 30 s.
POOL_SIZE = 40
POOL_TIMEOUT_SECONDS = 5.0
# How long connecting to PostgreSQL may take before the database counts as unreachable.
CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str) -> Engine:
    """An engine whose errors never repeat a statement's parameters (``hide_parameters``):
    they hold names, NHS numbers and contact details, and errors end up in logs."""
    pool = {"pool_size": POOL_SIZE, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT_SECONDS}
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            pool = {}  # one connection per thread, kept: there is no pool to size
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
            **pool,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
        **pool,
    )


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the API read while the worker writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


# The key of the PostgreSQL advisory lock that migrations hold: any number, the same in every
# socialrx process, so that several replicas starting at once migrate one after another.
MIGRATION_LOCK_KEY = 7_212_000_012


def migrate(url: str, owner_url: str = "") -> None:
    """Bring the schema at ``url`` up to the newest migration, connected as ``owner_url``
    when given (the schema's owner; ``url`` is then the app's own, lesser, user).

    On PostgreSQL the upgrade holds an advisory lock, so that processes starting together
    (several API replicas and workers) take turns instead of racing to create the same
    tables; whoever comes second finds the schema at head and has nothing to do. When the
    owner is another user than the app's, the app's user is then granted what it needs
    (``grant_app_user``)."""
    engine = make_engine(owner_url or url)
    postgres = engine.dialect.name == "postgresql"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.connect() as connection:
            if postgres:
                connection.execute(
                    text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                # Outside any transaction, so that Alembic commits its own.
                connection.commit()
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                app_user = make_url(url).username
                if postgres and owner_url and app_user != make_url(owner_url).username:
                    grant_app_user(connection, app_user or "")
                connection.commit()
            finally:
                if postgres:
                    connection.rollback()
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                    connection.commit()
    finally:
        engine.dispose()


def grant_app_user(connection: Connection, app_user: str) -> None:
    """What the app's user may do, given by the schema's owner after every migration (new
    tables included): read and write every table, but on ``access_log`` only INSERT and
    SELECT, so not even a compromised app can change or remove what was logged. It may not
    create, alter or drop anything."""
    user = connection.dialect.identifier_preparer.quote(app_user)
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {user}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {user}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {user}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON access_log FROM {user}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {user}",
    ):
        connection.execute(text(statement))


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def transaction_ended(session: Session) -> Iterator[None]:
    """End the session's transaction when the block ends, so its connection goes back to the
    pool: commit what the block did (an audit event of a refused access too), or roll back if
    the database failed. Committing after that would raise PendingRollbackError in place of
    the database's own error, and a lost database would answer 500 instead of 503."""
    database_failed = False
    try:
        yield
    except SQLAlchemyError:
        database_failed = True
        raise
    finally:
        if database_failed:
            session.rollback()
        else:
            session.commit()
