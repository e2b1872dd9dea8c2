"""An illegal step answers 409 with a reason, and changes nothing anywhere."""

from typing import Any
from uuid import UUID

from sqlmodel import Session, func, select

from domain.tables import AuditEvent, OutboxMessage, ReferralNote, Task
from tests.support.driver import LINK_WORKER, PRACTICE, SWEMWBS_LATER, Driver, person


def footprint(driver: Driver, referral_id: UUID) -> dict[str, Any]:
    with Session(driver.engine) as session:
        return {
            table.__name__: session.exec(
                select(func.count()).select_from(table).where(table.referral_id == referral_id)
            ).one()
            for table in (AuditEvent, Task, OutboxMessage, ReferralNote)
        }


async def assert_rejected(
    driver: Driver,
    referral_id: UUID,
    path: str,
    body: dict[str, Any],
    reason: str,
    actor: str = LINK_WORKER,
) -> None:
    before_state = (await driver.detail(referral_id))["state"]
    before = footprint(driver, referral_id)
    response = await driver.http.post(path, json=body, headers=await driver.headers_for(actor))
    assert response.status_code == 409, response.text
    assert reason in response.json()["detail"]
    assert (await driver.detail(referral_id))["state"] == before_state
    assert footprint(driver, referral_id) == before


async def test_uptake_before_any_service_is_chosen_is_refused(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    await driver.assess(referral_id)
    other_id = await driver.submit(nhs_number="9434765870")
    await driver.contact(other_id)
    await driver.assess(other_id)
    (walks,) = await driver.connect(other_id, "svc-health-walks")
    # Uptake is only possible for a service referral of this referral.
    await assert_rejected(
        driver,
        referral_id,
        f"/referrals/{referral_id}/assessment",
        {"need_codes": ["sp-arts"]},
        "already recorded",
    )
    response = await driver.http.post(
        f"/service-referrals/{walks}/uptake",
        json={"started": True},
        headers=await driver.headers_for("organisation:org-millbrook-leisure-trust"),
    )
    assert response.status_code == 409
    assert "Accept the referral" in response.json()["detail"]


async def test_steps_out_of_order_are_refused_with_what_to_do(driver: Driver) -> None:
    referral_id = await driver.submit()
    await assert_rejected(
        driver,
        referral_id,
        f"/referrals/{referral_id}/assessment",
        {"need_codes": ["sp-arts"], "goals": ["paint again"]},
        "record a successful contact attempt",
    )
    await driver.contact(referral_id)
    await assert_rejected(
        driver,
        referral_id,
        f"/referrals/{referral_id}/connections",
        {"service_ids": ["svc-health-walks"]},
        "Record the 'what matters' conversation before",
    )
    await assert_rejected(
        driver,
        referral_id,
        f"/referrals/{referral_id}/contact-attempts",
        {"method": "phone", "reached": True, "note": "second call"},
        "Contact has already been made",
    )
    await assert_rejected(
        driver,
        referral_id,
        f"/referrals/{referral_id}/follow-ups/1",
        {"measures": [SWEMWBS_LATER]},
        "no follow-up checkpoint 1",
    )
    await assert_rejected(
        driver,
        referral_id,
        f"/referrals/{referral_id}/close",
        {"reason": "no_suitable_service"},
        "cannot be closed as no_suitable_service",
    )


async def test_organisation_cannot_answer_for_another(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    await driver.assess(referral_id)
    (walks,) = await driver.connect(referral_id, "svc-health-walks")
    before = footprint(driver, referral_id)
    # Another organisation's service referral does not exist for it.
    await driver.respond(walks, "org-canal-side-studios", accepted=False, expect=404)
    assert footprint(driver, referral_id) == before
    await driver.respond(walks, "org-millbrook-leisure-trust", accepted=True)
    await driver.respond(walks, "org-millbrook-leisure-trust", accepted=True, expect=409)
    await assert_rejected(
        driver,
        referral_id,
        f"/referrals/{referral_id}/connections",
        {"service_ids": ["svc-health-walks"]},
        "Already referred to svc-health-walks",
    )


async def test_only_the_practice_can_cancel(driver: Driver) -> None:
    referral_id = await driver.submit()
    before_state = (await driver.detail(referral_id))["state"]
    before = footprint(driver, referral_id)
    path = f"/referrals/{referral_id}/cancel"
    # The organisation cannot see the referral at all; the link worker sees it but may not.
    await driver.post(path, {}, actor="organisation:org-millbrook-leisure-trust", expect=404)
    refused = await driver.post(path, {}, actor=LINK_WORKER, expect=403)
    assert "Only a practice may cancel" in refused["detail"]
    assert (await driver.detail(referral_id))["state"] == before_state
    assert footprint(driver, referral_id) == before


async def test_a_closed_referral_refuses_every_step(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.post(f"/referrals/{referral_id}/cancel", {}, actor="practice:A81001")
    await driver.wait_closed(referral_id)
    response = await driver.http.post(
        f"/referrals/{referral_id}/contact-attempts",
        json={"method": "letter", "reached": False},
        headers=await driver.headers_for(LINK_WORKER),
    )
    assert response.status_code == 409, response.text
    assert "closed" in response.json()["detail"]


async def test_unknown_referral_and_bad_input_are_client_errors(driver: Driver) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    link_worker = await driver.headers_for(LINK_WORKER)
    response = await driver.http.post(
        f"/referrals/{missing}/contact-attempts",
        json={"method": "phone", "reached": True},
        headers=link_worker,
    )
    assert response.status_code == 404
    referral_id = await driver.submit()
    response = await driver.http.post(
        f"/referrals/{referral_id}/contact-attempts",
        json={"method": "carrier pigeon"},
        headers=link_worker,
    )
    assert response.status_code == 422
    fields = {tuple(error["loc"]) for error in response.json()["detail"]}
    assert fields == {("body", "method"), ("body", "reached")}
    response = await driver.http.post(
        f"/referrals/{referral_id}/connections",
        json={"service_ids": ["svc-home-from-hospital"]},
        headers=link_worker,
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "service_ids", 0]
    assert error["msg"] == "svc-home-from-hospital is not an active service in the directory"


async def test_a_checkpoint_out_of_range_is_a_422_not_a_server_error(driver: Driver) -> None:
    referral_id = await driver.submit()
    before = footprint(driver, referral_id)
    link_worker = await driver.headers_for(LINK_WORKER)
    for checkpoint in ("0", "-1", "101", str(2**63), "9" * 40):
        response = await driver.http.post(
            f"/referrals/{referral_id}/follow-ups/{checkpoint}",
            json={"measures": [SWEMWBS_LATER]},
            headers=link_worker,
        )
        assert response.status_code == 422, (checkpoint, response.text)
        (error,) = response.json()["detail"]
        assert error["loc"] == ["path", "checkpoint"]
    assert footprint(driver, referral_id) == before


async def test_submission_errors_name_the_field_and_save_nothing(driver: Driver) -> None:
    cases: dict[str, dict[str, object]] = {
        "nhs_number": {"nhs_number": "1234567890"},
        "birth_date": {"birth_date": "2999-01-01"},
        "postcode": {"postcode": "NOT A POSTCODE"},
        "consent_given": {"consent_given": False},
        "reason": {"reason": ""},
    }
    practice = await driver.headers_for(PRACTICE)
    for field, override in cases.items():
        response = await driver.http.post("/referrals", json=person(**override), headers=practice)
        assert response.status_code == 422, field
        assert [e["loc"][-1] for e in response.json()["detail"]] == [field]
    response = await driver.http.post(
        "/referrals", json=person(practice_ods="Z99999"), headers=practice
    )
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "practice_ods"]]
    with Session(driver.engine) as session:
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == 0


async def test_measures_that_cannot_be_scored_get_422_naming_the_item(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    partial = {"instrument": "swemwbs", "answers": {f"item{n}": 3 for n in range(1, 7)}}
    link_worker = await driver.headers_for(LINK_WORKER)
    response = await driver.http.post(
        f"/referrals/{referral_id}/assessment",
        json={"need_codes": ["sp-arts"], "baseline": [partial]},
        headers=link_worker,
    )
    assert response.status_code == 422
    assert "item7 not answered" in response.text
    twice = {
        "instrument": "ucla3",
        "answers": {"lack_companionship": 2, "left_out": 2, "isolated": 2},
    }
    response = await driver.http.post(
        f"/referrals/{referral_id}/assessment",
        json={"need_codes": ["sp-arts"], "baseline": [twice, twice]},
        headers=link_worker,
    )
    assert response.status_code == 422
    assert "each instrument may be given once" in response.text
    assert (await driver.detail(referral_id))["state"]["assessed"] is False
