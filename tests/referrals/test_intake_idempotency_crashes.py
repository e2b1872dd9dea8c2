"""A request that dies holding its Idempotency-Key (its process killed, so it neither answers
nor lets go) does not block the key for ever: once its claim's lease lapses, a retry with the
same key takes the claim over and finishes the same referral, or answers with it if it was
already made. Never a second referral."""

import asyncio
from datetime import timedelta
from typing import Any, NoReturn
from uuid import UUID, uuid4

import httpx
import pytest

import api.idempotency
import api.routes.referrals
from api.intake import Submitted, submit
from core.settings import IdempotencySettings, Settings
from tests.support.driver import PRACTICE, Driver, person
from tests.support.intake_helpers import StartWatch, api_with, counts

SHORT_LEASE = IdempotencySettings(claim_lease=timedelta(seconds=1))


class Killed(Exception):
    """Stands for the process dying at this point: nothing after it runs."""


def die(*_args: Any) -> NoReturn:
    raise Killed


async def assert_one_referral_made_by(
    driver: Driver, watch: StartWatch, body: dict[str, Any], *answers: httpx.Response
) -> None:
    """Every answer is the same 201, for the one referral of the one workflow started."""
    first = answers[0]
    assert first.status_code == 201, first.text
    assert [answer.json() for answer in answers] == [first.json()] * len(answers)
    assert watch.started == [first.json()["workflow_id"]], "one workflow, carried on"
    assert counts(driver) == (1, 1, 1), "never a second referral"
    referral_id = UUID(first.json()["id"])
    driver.submitted[referral_id] = body
    await driver.wait_for_status(referral_id, "assigned")


@pytest.fixture
def short_lease(settings: Settings) -> Settings:
    return settings.model_copy(update={"idempotency": SHORT_LEASE})


async def test_a_retry_after_a_crash_before_the_rows_were_saved_completes_that_referral(
    driver: Driver, short_lease: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = StartWatch()
    body = person()
    headers = (await driver.headers_for(PRACTICE)) | {"Idempotency-Key": str(uuid4())}
    async with api_with(driver, short_lease, watch) as http:
        # The workflow starts, then the process dies before the rows are written (so it
        # neither saves them nor lets go of the key).
        with monkeypatch.context() as dying:
            dying.setattr(api.idempotency, "_let_go", lambda *_: None)
            watch.after = die
            with pytest.raises(Killed):
                await http.post("/referrals", json=body, headers=headers)
            watch.after = lambda: None
        assert counts(driver) == (0, 0, 0)
        (started_workflow,) = watch.started

        retried = await http.post("/referrals", json=body, headers=headers)
        again = await http.post("/referrals", json=body, headers=headers)

    assert retried.json()["workflow_id"] == started_workflow
    await assert_one_referral_made_by(driver, watch, body, retried, again)


async def test_a_retry_after_a_crash_after_the_rows_were_saved_returns_that_referral(
    driver: Driver, short_lease: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = StartWatch()
    body = person()
    headers = (await driver.headers_for(PRACTICE)) | {"Idempotency-Key": str(uuid4())}
    async with api_with(driver, short_lease, watch) as http:
        # Everything is done but storing the answer: the process dies there.
        with monkeypatch.context() as dying:
            dying.setattr(api.idempotency, "_keep", die)
            with pytest.raises(Killed):
                await http.post("/referrals", json=body, headers=headers)
        assert counts(driver) == (1, 1, 1)
        (started_workflow,) = watch.started

        retried = await http.post("/referrals", json=body, headers=headers)
        again = await http.post("/referrals", json=body, headers=headers)

    assert retried.json()["workflow_id"] == started_workflow
    await assert_one_referral_made_by(driver, watch, body, retried, again)


async def test_a_retry_while_the_first_request_is_alive_waits_for_its_answer(
    driver: Driver, short_lease: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease is renewed while the request runs: a slow first request is not taken over
    by a retry, even when it takes several leases."""
    watch = StartWatch()
    body = person()
    headers = (await driver.headers_for(PRACTICE)) | {"Idempotency-Key": str(uuid4())}
    working, release = asyncio.Event(), asyncio.Event()

    async def slow_submit(*args: Any) -> Submitted:
        working.set()
        await release.wait()
        return await submit(*args)

    monkeypatch.setattr(api.routes.referrals, "submit", slow_submit)
    async with api_with(driver, short_lease, watch) as http:
        first = asyncio.create_task(http.post("/referrals", json=body, headers=headers))
        await working.wait()
        retry = asyncio.create_task(http.post("/referrals", json=body, headers=headers))
        await asyncio.sleep(3 * SHORT_LEASE.claim_lease.total_seconds())
        assert not retry.done(), "the retry waits: the first request's claim is alive"
        release.set()
        answers = await asyncio.gather(first, retry)

    await assert_one_referral_made_by(driver, watch, body, *answers)
