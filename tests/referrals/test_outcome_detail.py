"""The practice sees how each measure changed, and the services taken up, in the JSON view and
the FHIR Task when the person agreed to details; only the codes when they did not."""

from datetime import timedelta
from typing import Any
from uuid import UUID

from tests.support.driver import LINK_WORKER, PRACTICE, Driver

LEISURE = "org-millbrook-leisure-trust"
UCLA_BEFORE = {
    "instrument": "ucla3",
    "answers": {"lack_companionship": 3, "left_out": 3, "isolated": 2},
}
UCLA_AFTER = {
    "instrument": "ucla3",
    "answers": {"lack_companionship": 2, "left_out": 2, "isolated": 2},
}
SWEMWBS_BEFORE = {"instrument": "swemwbs", "answers": {f"item{i}": 2 for i in range(1, 8)}}
SWEMWBS_AFTER = {"instrument": "swemwbs", "answers": {f"item{i}": 4 for i in range(1, 8)}}


async def completed(driver: Driver, outcome_to_gp: str) -> UUID:
    """Baseline SWEMWBS and UCLA-3, the walks taken up, both follow-ups recorded."""
    referral_id = await driver.submit(outcome_to_gp=outcome_to_gp)
    await driver.contact(referral_id, reached=True)
    body = {"need_codes": ["sp-social-groups"], "baseline": [SWEMWBS_BEFORE, UCLA_BEFORE]}
    await driver.post(f"/referrals/{referral_id}/assessment", body)
    (walks,) = await driver.connect(referral_id, "svc-health-walks")
    await driver.respond(walks, LEISURE)
    await driver.uptake(walks, LEISURE)
    await driver.record_both_follow_ups(referral_id)  # SWEMWBS 4s at each checkpoint
    return referral_id


def by_instrument(outcome: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {measure["instrument"]: measure for measure in outcome["measures"]}


async def test_with_details_the_practice_sees_each_change_in_json_and_fhir(
    driver: Driver,
) -> None:
    referral_id = await completed(driver, "details")
    detail = await driver.get(f"/referrals/{referral_id}", actor=PRACTICE)
    measures = by_instrument(detail["outcome"])
    swemwbs = measures["swemwbs"]
    assert (swemwbs["baseline_score"], swemwbs["latest_score"]) == (15.32, 25.03)
    assert swemwbs["change"] == 9.71 and swemwbs["direction"] == "better"
    assert swemwbs["meaningful"] is True and swemwbs["latest_checkpoint"] == "follow_up_2"
    # Loneliness was measured at baseline only: no later score, so no change to report.
    ucla = measures["ucla3"]
    assert ucla["baseline_score"] == 8.0 and ucla["latest_score"] is None
    assert ucla["change"] is None and ucla["direction"] is None and ucla["meaningful"] is None
    assert [s["service_id"] for s in detail["outcome"]["services_taken_up"]] == ["svc-health-walks"]

    task = await driver.get(f"/fhir/Task/{referral_id}", actor=PRACTICE)
    outputs = {o["type"]["coding"][0]["code"]: o for o in task["output"]}
    assert outputs["swemwbs"]["valueReference"]["reference"] == "#measure-swemwbs"
    (observation,) = [c for c in task["contained"] if c["id"] == "measure-swemwbs"]
    parts = {c["code"]["text"]: c for c in observation["component"]}
    assert parts["baseline"]["valueQuantity"]["value"] == 15.32
    assert parts["latest"]["valueQuantity"]["value"] == 25.03
    assert parts["change"]["valueQuantity"]["value"] == 9.71
    assert parts["meaningful"]["valueBoolean"] is True
    assert observation["interpretation"][0]["coding"][0]["code"] == "B"


async def test_with_codes_only_the_practice_sees_no_measure_but_the_link_worker_does(
    driver: Driver,
) -> None:
    referral_id = await completed(driver, "codes_only")
    detail = await driver.get(f"/referrals/{referral_id}", actor=PRACTICE)
    assert detail["outcome"] is None
    assert (detail["status"], detail["closure_reason"]) == ("closed", "completed")
    task = await driver.get(f"/fhir/Task/{referral_id}", actor=PRACTICE)
    assert "contained" not in task
    (code,) = task["output"]
    assert code["valueCodeableConcept"]["coding"][0]["code"]

    seen = await driver.get(f"/referrals/{referral_id}", actor=LINK_WORKER)
    assert by_instrument(seen["outcome"])["swemwbs"]["direction"] == "better"


async def test_a_lower_score_is_better_where_the_scale_says_so(driver: Driver) -> None:
    referral_id = await driver.submit(outcome_to_gp="details")
    await driver.contact(referral_id, reached=True)
    body = {"need_codes": ["sp-social-groups"], "baseline": [UCLA_BEFORE]}
    await driver.post(f"/referrals/{referral_id}/assessment", body)
    (walks,) = await driver.connect(referral_id, "svc-health-walks")
    await driver.respond(walks, LEISURE)
    await driver.uptake(walks, LEISURE)
    await driver.skip(timedelta(weeks=13, hours=1))
    await driver.wait_for_status(referral_id, "follow_up")
    await driver.post(f"/referrals/{referral_id}/follow-ups/1", {"measures": [UCLA_AFTER]})
    await driver.skip(timedelta(weeks=4))
    await driver.post(f"/referrals/{referral_id}/follow-ups/2", {"measures": [UCLA_AFTER]})
    await driver.wait_closed(referral_id)
    detail = await driver.get(f"/referrals/{referral_id}", actor=PRACTICE)
    ucla = by_instrument(detail["outcome"])["ucla3"]
    assert (ucla["baseline_score"], ucla["latest_score"], ucla["change"]) == (8.0, 6.0, -2.0)
    assert ucla["direction"] == "better" and ucla["meaningful"] is True
    assert ucla["higher_is_better"] is False
