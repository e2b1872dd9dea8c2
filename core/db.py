"""The database engine, sessions and migrations."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, make_url
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
    pool = {"pool_size": POOL_SIZE, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT_SECONDS}
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            pool = {}  # one connection per thread, kept: there is no pool to size
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **pool
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
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


def migrate(url: str) -> None:
    """Bring the schema at ``url`` up to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


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
