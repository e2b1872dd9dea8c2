"""A referral connected to an organisation's service, for the organisation's pages.

``connected_system``: the real worker and Temporal (``running_system``) and the app served
for a browser on the same task queue; ``service_referral_to``: a referral driven through the
JSON API up to the service referral an organisation answers.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NamedTuple
from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.testing import WorkflowEnvironment

from catalogue.tables import Service
from core.settings import Settings
from tests.support.browser import running_app
from tests.support.driver import Driver
from tests.support.event_loop_db import DatabaseOnEventLoop
from tests.support.system import running_system


class ConnectedSystem(NamedTuple):
    driver: Driver
    app_url: str


@asynccontextmanager
async def connected_system(
    env: WorkflowEnvironment, engine: Engine, settings: Settings, cache_workflows: bool = True
) -> AsyncIterator[ConnectedSystem]:
    """Fails the test if any page request queried the database on the event loop."""
    on_event_loop = DatabaseOnEventLoop()
    async with running_system(env, engine, settings, cache_workflows) as driver:
        on_queue = settings.model_copy(update={"task_queue": driver.task_queue})
        with running_app(on_queue, env.client, on_event_loop) as app_url:
            yield ConnectedSystem(driver, app_url)
    assert not on_event_loop.violations, "database work on the event loop:\n" + "\n".join(
        on_event_loop.violations
    )


def a_service_of(engine: Engine, organisation_id: str) -> str:
    with Session(engine) as session:
        service_id = session.exec(
            select(Service.id)
            .where(col(Service.organization_id) == organisation_id)
            .order_by(col(Service.id))
        ).first()
    assert service_id is not None, f"{organisation_id} runs no service"
    return service_id


async def service_referral_to(driver: Driver, organisation_id: str) -> UUID:
    """A new referral, contacted, assessed and connected to one of the organisation's
    services: the id of that service referral, waiting for the organisation's answer."""
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    await driver.assess(referral_id)
    (service_referral_id,) = await driver.connect(
        referral_id, a_service_of(driver.engine, organisation_id)
    )
    return UUID(service_referral_id)
