"""The watch that every running system in the tests keeps (tests/referrals/conftest.py):
database work of a request on the event loop is caught, in a route or a dependency, and work
in a worker thread is not."""

from typing import Annotated

import httpx
from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, text
from sqlmodel import Session

from api.deps import SessionDep
from api.main import create_app
from core.settings import Settings
from tests.support.event_loop_db import guarded, watching


async def blocking_dependency(session: SessionDep) -> int:
    return int(session.execute(text("SELECT 2")).scalar_one())


def _one(session: Session) -> int:
    return int(session.execute(text("SELECT 1")).scalar_one())


async def test_database_work_on_the_event_loop_is_caught(
    engine: Engine, settings: Settings
) -> None:
    app = create_app(settings)

    @app.get("/on-the-loop")
    async def on_the_loop(session: SessionDep) -> int:
        return _one(session)

    @app.get("/dependency-on-the-loop")
    async def dependency_on_the_loop(
        two: Annotated[int, Depends(blocking_dependency)],
    ) -> int:
        return two

    @app.get("/in-a-thread")
    async def in_a_thread(session: SessionDep) -> int:
        return await run_in_threadpool(_one, session)

    @app.get("/plain")
    def plain(session: SessionDep) -> int:
        return _one(session)

    transport = httpx.ASGITransport(app=guarded(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        with watching(engine) as watch:
            for path in ("/in-a-thread", "/plain"):
                assert (await http.get(path)).status_code == 200
            assert watch.violations == []
            for path in ("/on-the-loop", "/dependency-on-the-loop"):
                assert (await http.get(path)).status_code == 200
            assert watch.violations == [
                "GET /on-the-loop: SELECT 1",
                "GET /dependency-on-the-loop: SELECT 2",
            ]
        # Outside a request (a test's own reads, the worker's activities) is not watched.
        with watching(engine) as watch, Session(engine) as session:
            _one(session)
        assert watch.violations == []
