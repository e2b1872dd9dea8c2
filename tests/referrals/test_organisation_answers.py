"""An organisation sees the minimum it needs, in the answers to its own steps too: a referral
sent to services of two organisations shows each only its own service referral, and none of
the link worker's work."""

import json
from typing import Any

from tests.support.driver import Driver

WALKS, LEISURE = "svc-health-walks", "org-millbrook-leisure-trust"
POTTERY, STUDIOS = "svc-pottery-for-beginners", "org-canal-side-studios"
# All an organisation's step answers with; contact attempts, suggestions, the link worker,
# the team lead and the first-contact deadline are not for it.
ORGANISATION_ANSWER = {
    "referral_id",
    "status",
    "closure_reason",
    "need_codes",
    "service_referrals",
    "first_uptake_at",
    "checkpoints",
}


NEEDS = ["sp-social-groups", "sp-physical-activity"]


def assert_only_its_own(
    answer: dict[str, Any],
    service_referral_id: str,
    organisation: str,
    unwanted: list[str],
    need_codes: list[str] = NEEDS,
) -> None:
    assert set(answer) == ORGANISATION_ANSWER
    assert [(s["id"], s["organisation_id"]) for s in answer["service_referrals"]] == [
        (service_referral_id, organisation)
    ]
    assert answer["need_codes"] == need_codes
    text = json.dumps(answer)
    assert [word for word in unwanted if word in text] == []


async def test_each_organisation_hears_only_of_its_own_service_referral(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id, reached=True)
    await driver.assess(referral_id)
    connected = await driver.post(
        f"/referrals/{referral_id}/connections", {"service_ids": [WALKS, POTTERY]}
    )
    ids = {s["service_id"]: s["id"] for s in connected["service_referrals"]}
    walks, pottery = ids[WALKS], ids[POTTERY]
    # The link worker, who runs the referral, sees all of it, so there is something to trim.
    link_worker = connected["link_worker_id"]
    assert connected["contact_attempts"] and connected["suggested_service_ids"]
    assert link_worker and connected["team_lead_id"] and connected["first_contact_due_at"]
    # The link worker and team lead are lw-..., and nothing else an organisation sees is.
    assert link_worker.startswith("lw-") and connected["team_lead_id"].startswith("lw-")

    # The leisure trust accepts its walks and confirms the person started.
    leisure_answers = [
        await driver.respond(walks, LEISURE, accepted=True),
        await driver.uptake(walks, LEISURE, started=True),
    ]
    for answer in leisure_answers:
        assert_only_its_own(answer, walks, LEISURE, [pottery, POTTERY, STUDIOS, "lw-"])
    accepted, started = leisure_answers
    assert accepted["status"] == "connecting"
    assert accepted["service_referrals"][0]["status"] == "accepted"
    assert started["status"] == "engaged" and started["first_uptake_at"]
    assert started["service_referrals"][0]["status"] == "started"
    # What a benchmark driver waits on: when each checkpoint opens.
    assert [c["number"] for c in started["checkpoints"]] == [1, 2]
    assert all(c["opens_at"] for c in started["checkpoints"])

    # The studios, answering later, hear nothing of the walks or the leisure trust.
    studios_answers = [
        await driver.respond(pottery, STUDIOS, accepted=True),
        await driver.uptake(pottery, STUDIOS, started=False),
    ]
    # Once the person did not attend, the studios no longer need to know their needs.
    for answer, needs in zip(studios_answers, [NEEDS, []], strict=True):
        assert_only_its_own(answer, pottery, STUDIOS, [walks, WALKS, LEISURE, "lw-"], needs)
    assert studios_answers[-1]["service_referrals"][0]["status"] == "did_not_attend"

    # Their other views keep to their own too, and the other's service referral is not there.
    for organisation, own, other in ((LEISURE, walks, pottery), (STUDIOS, pottery, walks)):
        actor = f"organisation:{organisation}"
        listed = await driver.get(f"/organisations/{organisation}/service-referrals", actor=actor)
        assert [s["id"] for s in listed if s["referral_id"] == str(referral_id)] == [own]
        view = await driver.get(f"/service-referrals/{own}", actor=actor)
        assert view["organisation_id"] == organisation
        await driver.get(f"/service-referrals/{other}", actor=actor, expect=404)

    # The link worker still sees both, as they are.
    seen = await driver.detail(referral_id)
    statuses = {s["service_id"]: s["status"] for s in seen["service_referrals"]}
    assert statuses == {WALKS: "started", POTTERY: "did_not_attend"}
