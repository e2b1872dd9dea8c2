"""One open referral per person: a second answers 409, naming the open one only to the
practice that made it; once it is closed, the person can be referred again."""

import asyncio
from uuid import UUID

from tests.support.driver import OTHER_PRACTICE, PRACTICE, Driver, person
from tests.support.intake_helpers import counts


async def test_open_referral_for_the_same_person_answers_409(driver: Driver) -> None:
    first = await driver.submit()
    nhs_number = driver.submitted[first]["nhs_number"]

    again = await driver.http.post(
        "/referrals",
        json=person(nhs_number=nhs_number),
        headers=(await driver.headers_for(PRACTICE)),
    )
    assert again.status_code == 409
    assert again.json()["existing_referral_id"] == str(first)
    assert again.json()["detail"].startswith("nhs_number: ")

    # Another practice learns that a referral is open, not which one.
    elsewhere = await driver.http.post(
        "/referrals",
        json=person(practice_ods="A81002", nhs_number=nhs_number),
        headers=(await driver.headers_for(OTHER_PRACTICE)),
    )
    assert elsewhere.status_code == 409
    assert elsewhere.json()["existing_referral_id"] is None
    assert str(first) not in elsewhere.text
    assert counts(driver) == (1, 1, 1)


async def test_closed_referral_does_not_block_a_new_one(driver: Driver) -> None:
    first = await driver.submit()
    nhs_number = driver.submitted[first]["nhs_number"]
    await driver.post(f"/referrals/{first}/cancel", {}, actor=PRACTICE)
    await driver.wait_closed(first)

    second = await driver.submit(nhs_number=nhs_number)
    assert second != first
    assert counts(driver) == (2, 2, 2)


async def test_same_person_submitted_at_once_makes_one_referral(dev_driver: Driver) -> None:
    # The losers' workflows are terminated mid-step: on the dev server, because the
    # time-skipping one stops skipping after that.
    driver = dev_driver
    body = person()
    practice = await driver.headers_for(PRACTICE)
    responses = await asyncio.gather(
        *(driver.http.post("/referrals", json=body, headers=practice) for _ in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409]
    (created,) = [r for r in responses if r.status_code == 201]
    driver.submitted[UUID(created.json()["id"])] = body
    await driver.wait_for_status(UUID(created.json()["id"]), "assigned")
    assert counts(driver) == (1, 1, 1)
