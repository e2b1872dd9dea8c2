"""Submitting referrals: concurrently, and when the workflow cannot be started."""

import asyncio
from uuid import UUID

import httpx
from sqlmodel import Session, func, select
from temporalio.client import Client

from api.main import create_app
from core.settings import Settings
from core.temporal import DATA_CONVERTER
from domain.tables import Person, Referral
from tests.support.driver import NHS_NUMBERS_USED, PRACTICE, Driver, person


def rows(driver: Driver) -> tuple[int, int]:
    with Session(driver.engine) as session:
        return (
            session.exec(select(func.count()).select_from(Referral)).one(),
            session.exec(select(func.count()).select_from(Person)).one(),
        )


async def test_concurrent_submissions_all_succeed(driver: Driver) -> None:
    bodies = [person(nhs_number=NHS_NUMBERS_USED[i]) for i in range(12)]
    practice = await driver.headers_for(PRACTICE)
    responses = await asyncio.gather(
        *(driver.http.post("/referrals", json=b, headers=practice) for b in bodies)
    )
    assert [r.status_code for r in responses] == [201] * 12
    assert rows(driver) == (12, 12)
    for response, body in zip(responses, bodies, strict=True):
        driver.submitted[UUID(response.json()["id"])] = body


async def test_a_workflow_that_cannot_start_leaves_no_referral_behind(
    dev_driver: Driver, settings: Settings
) -> None:
    # The real dev server refusing the start: the namespace does not exist there.
    driver = dev_driver
    target = driver.env.client.service_client.config.target_host
    elsewhere = await Client.connect(
        target, namespace="no-such-namespace", data_converter=DATA_CONVERTER
    )
    practice = await driver.headers_for(PRACTICE)
    app = create_app(settings, elsewhere)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
        response = await http.post("/referrals", json=person(), headers=practice)
    assert response.status_code == 503
    assert "was not saved" in response.json()["detail"]
    assert rows(driver) == (0, 0)
