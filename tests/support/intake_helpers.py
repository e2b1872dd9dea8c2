"""Helpers for intake tests: the API given a Temporal client that counts or breaks workflow
starts, and row counts."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlmodel import Session, func, select
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)

from api.main import create_app
from core.settings import Settings
from core.temporal import DATA_CONVERTER
from domain.tables import Consent, Person, Referral
from tests.support.driver import Driver


class StartWatch(Interceptor):
    """Counts the workflows the API starts; ``before``/``after`` can make a start fail."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.before: Callable[[], None] = lambda: None
        self.after: Callable[[], None] = lambda: None

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        watch = self

        class Outbound(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
                watch.before()
                handle = await super().start_workflow(input)
                watch.started.append(input.id)
                watch.after()
                return handle

        return Outbound(next)


@asynccontextmanager
async def api_with(
    driver: Driver, settings: Settings, watch: StartWatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the driver's task queue and database, its starts going through ``watch``."""
    client = Client(
        driver.env.client.service_client,
        namespace=driver.env.client.namespace,
        data_converter=DATA_CONVERTER,
        interceptors=[watch],
    )
    app = create_app(settings.model_copy(update={"task_queue": driver.task_queue}), client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
        yield http


def counts(driver: Driver) -> tuple[int, int, int]:
    """Referral, person and consent rows."""
    with Session(driver.engine) as session:
        return tuple(  # type: ignore[return-value]
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Referral, Person, Consent)
        )
