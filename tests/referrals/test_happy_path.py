"""A referral runs through contact, assessment, connection, uptake and both follow-ups."""

from domain.codes import REFERRAL_TO_SOCIAL_PRESCRIBING
from tests.support.driver import SWEMWBS_BASELINE, SWEMWBS_LATER, Driver


async def test_referral_completes_after_both_follow_ups_and_tells_the_gp(driver: Driver) -> None:
    referral_id = await driver.submit()
    detail = await driver.detail(referral_id)
    assert detail["link_worker_id"] in {"lw-amira", "lw-ben", "lw-carys"}
    assert [t["kind"] for t in detail["tasks"]] == ["first_contact"]

    state = await driver.contact(referral_id, reached=True)
    assert state["status"] == "contacting"
    state = await driver.assess(referral_id)
    assert state["status"] == "assessed"
    (walks,) = await driver.connect(referral_id, "svc-health-walks")
    state = await driver.respond(walks, "org-millbrook-leisure-trust", accepted=True)
    assert state["status"] == "connecting"
    state = await driver.uptake(walks, "org-millbrook-leisure-trust", started=True)
    assert state["status"] == "engaged"
    assert [c["status"] for c in state["checkpoints"]] == ["scheduled", "scheduled"]

    final = await driver.record_both_follow_ups(referral_id)
    assert final["closure_reason"] == "completed"
    assert [c["status"] for c in final["checkpoints"]] == ["recorded", "recorded"]
    detail = await driver.detail(referral_id)
    assert detail["closure_reason"] == "completed"
    assert all(task["status"] != "open" for task in detail["tasks"])
    assert [e["action"] for e in detail["timeline"]][:3] == [
        "received",
        "assigned",
        "contact_attempted",
    ]
    assert detail["timeline"][-1]["action"] == "closed"

    kinds = [m.kind for m in driver.outbox(referral_id)]
    assert kinds == [
        "gp_acknowledgement",
        "link_worker_assigned",
        "organisation_referral",
        "link_worker_checkpoint_open",
        "link_worker_checkpoint_open",
        "gp_outcome",
    ]
    assert all(m.sent_at is not None for m in driver.outbox(referral_id))
    gp_message = driver.outbox(referral_id)[-1].payload
    assert gp_message["snomed"]["code"] == REFERRAL_TO_SOCIAL_PRESCRIBING
    assert gp_message["closure_reason"] == "completed"
    assert gp_message["nhs_number"] == driver.submitted[referral_id]["nhs_number"]
    assert [s["service_name"] for s in gp_message["services_taken_up"]] == [
        "Millbrook health walks"
    ]
    measures = gp_message["measures"]
    assert measures["baseline"]["measures"][0]["answers"] == SWEMWBS_BASELINE["answers"]
    for checkpoint in ("follow_up_1", "follow_up_2"):
        assert measures[checkpoint]["missed"] is False
        assert measures[checkpoint]["measures"][0]["answers"] == SWEMWBS_LATER["answers"]
