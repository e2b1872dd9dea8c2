"""Endings before completion: the person declines, cannot be contacted, or withdraws consent."""

from datetime import timedelta

from domain.codes import REFERRAL_TO_SOCIAL_PRESCRIBING, SOCIAL_PRESCRIBING_DECLINED
from tests.support.driver import PRACTICE, Driver


def open_tasks(driver: Driver, referral_id: object) -> list[str]:
    return [t.kind for t in driver.tasks(referral_id) if t.status == "open"]  # type: ignore[arg-type]


async def test_person_declines_and_gp_hears_the_declined_code(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id, reached=True)
    state = await driver.post(
        f"/referrals/{referral_id}/close", {"reason": "declined", "note": "Not for me right now"}
    )
    assert state["status"] == "closed"
    assert state["closure_reason"] == "declined"

    final = await driver.wait_closed(referral_id)
    assert final["closure_reason"] == "declined"
    assert open_tasks(driver, referral_id) == []
    gp_message = driver.outbox(referral_id)[-1]
    assert gp_message.kind == "gp_outcome"
    assert gp_message.payload["snomed"]["code"] == SOCIAL_PRESCRIBING_DECLINED
    assert gp_message.payload["services_taken_up"] == []


async def test_three_failed_attempts_over_fourteen_days_close_as_unable_to_contact(
    driver: Driver,
) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id, reached=False)
    await driver.skip(timedelta(days=7))
    state = await driver.contact(referral_id, reached=False)
    assert state["status"] == "contacting"
    await driver.skip(timedelta(days=7, minutes=1))
    state = await driver.contact(referral_id, reached=False)

    assert state["status"] == "closed"
    assert state["closure_reason"] == "unable_to_contact"
    await driver.wait_closed(referral_id)
    assert open_tasks(driver, referral_id) == []
    assert driver.outbox(referral_id)[-1].payload["closure_reason"] == "unable_to_contact"


async def test_three_quick_failed_attempts_ask_for_another_try_after_fourteen_days(
    driver: Driver,
) -> None:
    referral_id = await driver.submit()
    for _ in range(3):
        await driver.contact(referral_id, reached=False)
        await driver.skip(timedelta(hours=2))
    assert (await driver.detail(referral_id))["status"] == "contacting"

    await driver.skip(timedelta(days=13))
    assert (await driver.detail(referral_id))["status"] == "contacting"
    await driver.skip(timedelta(days=1))

    # Attempts bunched on one day do not span the fortnight: the link worker tries again.
    await driver.wait_for_task(referral_id, "contact_retry", status="open")
    assert (await driver.detail(referral_id))["status"] == "contacting"
    state = await driver.contact(referral_id, reached=False)

    assert state["closure_reason"] == "unable_to_contact"
    final = await driver.wait_closed(referral_id)
    assert final["closure_reason"] == "unable_to_contact"
    assert open_tasks(driver, referral_id) == []


async def test_a_reached_person_is_never_given_up_on(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id, reached=False)
    await driver.contact(referral_id, reached=False)
    await driver.contact(referral_id, reached=True)
    await driver.skip(timedelta(days=20))
    detail = await driver.detail(referral_id)
    assert detail["status"] == "contacting"
    assert open_tasks(driver, referral_id) == ["what_matters_conversation"]


async def test_consent_withdrawn_midway_closes_tasks_and_tells_the_organisation(
    driver: Driver,
) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    await driver.assess(referral_id)
    walks, _pottery = await driver.connect(
        referral_id, "svc-health-walks", "svc-pottery-for-beginners"
    )
    await driver.respond(walks, "org-millbrook-leisure-trust", accepted=True)
    assert set(open_tasks(driver, referral_id)) == {"confirm_uptake", "respond_to_referral"}

    state = await driver.post(
        f"/referrals/{referral_id}/withdraw-consent", {"note": "Asked us to stop"}
    )
    assert state["closure_reason"] == "consent_withdrawn"
    assert {s["status"] for s in state["service_referrals"]} == {"withdrawn"}

    await driver.wait_closed(referral_id)
    assert open_tasks(driver, referral_id) == []
    notices = [m for m in driver.outbox(referral_id) if m.kind == "organisation_withdrawn"]
    assert sorted(m.recipient_id for m in notices) == [
        "org-canal-side-studios",
        "org-millbrook-leisure-trust",
    ]
    detail = await driver.detail(referral_id)
    assert {s["status"] for s in detail["service_referrals"]} == {"withdrawn"}
    (gp_message,) = [m.payload for m in driver.outbox(referral_id) if m.kind == "gp_outcome"]
    assert gp_message["closure_reason"] == "consent_withdrawn"
    # They had the conversation, so the GP records the referral, then its ending.
    assert gp_message["snomed"]["code"] == REFERRAL_TO_SOCIAL_PRESCRIBING


async def test_referrer_cancels_before_contact(driver: Driver) -> None:
    referral_id = await driver.submit()
    state = await driver.post(f"/referrals/{referral_id}/cancel", {}, actor=PRACTICE)
    assert state["closure_reason"] == "cancelled_by_referrer"
    await driver.wait_closed(referral_id)
    assert open_tasks(driver, referral_id) == []


async def test_person_is_ineligible(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    state = await driver.post(f"/referrals/{referral_id}/close", {"reason": "ineligible"})
    assert state["closure_reason"] == "ineligible"


async def test_no_suitable_service_after_assessment(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    await driver.assess(referral_id)
    state = await driver.post(f"/referrals/{referral_id}/close", {"reason": "no_suitable_service"})
    assert state["closure_reason"] == "no_suitable_service"
    final = await driver.wait_closed(referral_id)
    assert final["closure_reason"] == "no_suitable_service"
