"""Idempotency-Key on POST /referrals: the same request again gets the first answer and
creates nothing; the key with another request is refused; a burst of the same request makes
one referral and one workflow."""

import asyncio
from uuid import UUID, uuid4

from core.settings import Settings
from tests.support.driver import OTHER_PRACTICE, PRACTICE, Driver, person
from tests.support.intake_helpers import StartWatch, api_with, counts


async def test_same_key_and_body_returns_the_stored_response(
    driver: Driver, settings: Settings
) -> None:
    watch = StartWatch()
    body = person()
    headers = (await driver.headers_for(PRACTICE)) | {"Idempotency-Key": str(uuid4())}
    async with api_with(driver, settings, watch) as http:
        first = await http.post("/referrals", json=body, headers=headers)
        # Spacing and key order do not make it a different request.
        again = await http.post("/referrals", content=_reordered(body), headers=headers | _json())
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(watch.started) == 1
    assert counts(driver) == (1, 1, 1)
    driver.submitted[UUID(first.json()["id"])] = body
    await driver.wait_for_status(UUID(first.json()["id"]), "assigned")


async def test_same_key_with_a_different_body_is_refused(
    driver: Driver, settings: Settings
) -> None:
    watch = StartWatch()
    key = str(uuid4())
    mine, changed, their_body = person(), person(), person(practice_ods="A81002")
    async with api_with(driver, settings, watch) as http:
        first = await http.post(
            "/referrals",
            json=mine,
            headers=(await driver.headers_for(PRACTICE)) | {"Idempotency-Key": key},
        )
        other = await http.post(
            "/referrals",
            json=changed,
            headers=(await driver.headers_for(PRACTICE)) | {"Idempotency-Key": key},
        )
        # Keys belong to their caller: another practice may use the same string.
        theirs = await http.post(
            "/referrals",
            json=their_body,
            headers=(await driver.headers_for(OTHER_PRACTICE)) | {"Idempotency-Key": key},
        )
    assert first.status_code == 201
    assert other.status_code == 422
    (problem,) = other.json()["detail"]
    assert problem["loc"] == ["header", "Idempotency-Key"]
    assert "already used with a different request" in problem["msg"]
    assert theirs.status_code == 201
    assert len(watch.started) == 2
    assert counts(driver) == (2, 2, 2)
    for response, body in ((first, mine), (theirs, their_body)):
        driver.submitted[UUID(response.json()["id"])] = body
        await driver.wait_for_status(UUID(response.json()["id"]), "assigned")


async def test_twenty_concurrent_identical_requests_make_one_referral_and_one_workflow(
    driver: Driver, settings: Settings
) -> None:
    watch = StartWatch()
    body = person()
    headers = (await driver.headers_for(PRACTICE)) | {"Idempotency-Key": str(uuid4())}
    async with api_with(driver, settings, watch) as http:
        responses = await asyncio.gather(
            *(http.post("/referrals", json=body, headers=headers) for _ in range(20))
        )
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.text for r in responses}) == 1
    assert len(watch.started) == 1
    assert counts(driver) == (1, 1, 1)
    referral_id = UUID(responses[0].json()["id"])
    driver.submitted[referral_id] = body
    await driver.wait_for_status(referral_id, "assigned")


async def test_a_failed_request_lets_go_of_its_key(driver: Driver, settings: Settings) -> None:
    watch = StartWatch()
    key = str(uuid4())
    body = person()
    async with api_with(driver, settings, watch) as http:
        refused = await http.post(
            "/referrals",
            json=body | {"practice_ods": "A81002"},
            headers=(await driver.headers_for(PRACTICE)) | {"Idempotency-Key": key},
        )
        accepted = await http.post(
            "/referrals",
            json=body,
            headers=(await driver.headers_for(PRACTICE)) | {"Idempotency-Key": key},
        )
    assert refused.status_code == 403
    assert accepted.status_code == 201
    driver.submitted[UUID(accepted.json()["id"])] = body
    await driver.wait_for_status(UUID(accepted.json()["id"]), "assigned")


def _reordered(body: dict[str, object]) -> str:
    import json

    return json.dumps(dict(reversed(body.items())), indent=2)


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}
