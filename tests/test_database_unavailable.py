"""A database that cannot answer now makes a request answer 503 with Retry-After, quickly:
the pool is sized to the worker threads and waits briefly (core.db), then says so."""

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

import core.db
from api.main import create_app
from core.db import engine_for, migrate, transaction_ended
from core.settings import Settings


async def _get_services(settings: Settings) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.get("/services")


async def test_an_exhausted_pool_answers_503_within_the_pool_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.db, "POOL_SIZE", 1)
    monkeypatch.setattr(core.db, "POOL_TIMEOUT_SECONDS", 0.2)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'busy.db'}")
    migrate(settings.resolved_database_url)
    engine = engine_for(settings.resolved_database_url)
    with engine.connect():  # the only connection, taken
        started = time.monotonic()
        response = await _get_services(settings)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
    assert "try again" in response.json()["detail"]
    assert time.monotonic() - started < 5
    assert (await _get_services(settings)).status_code == 200


async def test_an_unreachable_database_answers_503() -> None:
    # Port 1 on this machine: nothing listens, so connecting is refused at once.
    settings = Settings(database_url="postgresql+psycopg://socialrx@127.0.0.1:1/socialrx")
    response = await _get_services(settings)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]


def test_a_connection_lost_mid_request_raises_its_own_error_not_a_pending_rollback(
    tmp_path: Path,
) -> None:
    """What a database restart does to a request: its connection dies under it. Ending the
    transaction must raise that error (mapped to 503), not PendingRollbackError (a 500)."""
    engine = engine_for(f"sqlite:///{tmp_path / 'lost.db'}")
    with Session(engine) as session:
        with pytest.raises(OperationalError), transaction_ended(session):
            session.execute(text("SELECT 1"))
            # What SQLAlchemy does when the server goes away under a statement.
            session.connection().invalidate()
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        session.execute(text("SELECT 1"))  # and the session works again afterwards


def test_a_refusal_still_commits_what_the_block_wrote(tmp_path: Path) -> None:
    """A refusal (a 404, say) is no database failure: what the block wrote, such as the audit
    event of a refused access, is committed all the same."""
    engine = engine_for(f"sqlite:///{tmp_path / 'kept.db'}")
    with Session(engine) as session:
        session.execute(text("CREATE TABLE audit (what TEXT)"))
        session.commit()
        with pytest.raises(LookupError), transaction_ended(session):
            session.execute(text("INSERT INTO audit VALUES ('refused')"))
            raise LookupError("not yours")
    with Session(engine) as session:
        assert session.execute(text("SELECT what FROM audit")).scalars().all() == ["refused"]
