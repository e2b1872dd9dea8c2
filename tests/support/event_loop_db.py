"""Catching database work on the event loop: an ``async def`` route or dependency that runs
a query itself, instead of in a worker thread, holds up every other request while it waits.

``guarded(app)`` marks each request it serves; ``DatabaseOnEventLoop`` listens to every SQL
statement the engine runs and records those of a marked request that run on a thread with a
running event loop. Worker threads (``run_in_threadpool``, plain ``def`` routes) have none;
the Temporal worker's activities are not part of a request, so they are never marked.
"""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, event
from starlette.types import ASGIApp, Receive, Scope, Send

_serving: ContextVar[str | None] = ContextVar("serving", default=None)


def guarded(app: ASGIApp) -> ASGIApp:
    """``app``, with each request it serves marked (the mark follows it into threads)."""

    async def marked(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        token = _serving.set(f"{scope['method']} {scope['path']}")
        try:
            await app(scope, receive, send)
        finally:
            _serving.reset(token)

    return marked


class DatabaseOnEventLoop:
    """The statements requests ran on the event loop: ``"POST /referrals: SELECT ..."``."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        request = _serving.get()
        if request is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a worker thread: where database work belongs
        self.violations.append(f"{request}: {' '.join(statement.split())[:80]}")


@contextmanager
def watching(engine: Engine) -> Iterator[DatabaseOnEventLoop]:
    watch = DatabaseOnEventLoop()
    event.listen(engine, "before_cursor_execute", watch.record)
    try:
        yield watch
    finally:
        event.remove(engine, "before_cursor_execute", watch.record)
