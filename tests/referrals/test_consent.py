"""Consent recorded at intake decides what organisations see and what goes back to the GP."""

from typing import Any
from uuid import UUID

from tests.support.driver import LINK_WORKER, PRACTICE, Driver, organisation_actor

LEISURE = "org-millbrook-leisure-trust"


async def connected_to_walks(driver: Driver, **consent: str) -> tuple[UUID, str]:
    referral_id = await driver.submit(**consent)
    await driver.contact(referral_id, reached=True)
    await driver.assess(referral_id)
    (walks,) = await driver.connect(referral_id, "svc-health-walks")
    return referral_id, walks


async def test_organisation_sees_contact_details_and_the_reason_only_with_consent(
    driver: Driver,
) -> None:
    shared, shared_walks = await connected_to_walks(
        driver, share_with_organisations="contact_and_reason"
    )
    private, private_walks = await connected_to_walks(
        driver, share_with_organisations="contact_only"
    )
    actor = await driver.headers_for(organisation_actor(LEISURE))

    view = (await driver.http.get(f"/service-referrals/{shared_walks}", headers=actor)).json()
    assert view["reason"] == driver.submitted[shared]["reason"]
    assert view["person"]["phone"] == driver.submitted[shared]["phone"]
    assert "nhs_number" not in view["person"] and "birth_date" not in view["person"]

    response = await driver.http.get(f"/service-referrals/{private_walks}", headers=actor)
    assert response.status_code == 200
    assert response.json()["reason"] is None
    assert response.json()["person"]["family_name"] == driver.submitted[private]["family_name"]
    assert driver.submitted[private]["reason"] not in response.text
    # Under contact_only the need codes are withheld too: a code can say as much as the reason.
    assert response.json()["need_codes"] == []
    assert view["need_codes"] == ["sp-social-groups", "sp-physical-activity"]  # as assessed
    accepted = await driver.respond(private_walks, LEISURE, accepted=True)
    assert accepted["need_codes"] == []

    # The message that told the organisation about the referral follows the same rule.
    (told,) = [m for m in driver.outbox(private) if m.kind == "organisation_referral"]
    assert told.payload["reason"] is None
    assert told.payload["need_codes"] == []
    assert driver.submitted[private]["reason"] not in str(told.payload)
    (told,) = [m for m in driver.outbox(shared) if m.kind == "organisation_referral"]
    assert told.payload["reason"] == driver.submitted[shared]["reason"]


async def test_other_organisations_and_practices_do_not_see_the_referral(driver: Driver) -> None:
    _, walks = await connected_to_walks(driver)
    for actor in (organisation_actor("org-canal-side-studios"), PRACTICE):
        response = await driver.http.get(
            f"/service-referrals/{walks}", headers=(await driver.headers_for(actor))
        )
        assert response.status_code == 404


async def test_gp_hears_only_the_codes_unless_the_person_agreed_to_details(
    driver: Driver,
) -> None:
    codes_only = await driver.submit(outcome_to_gp="codes_only")
    details = await driver.submit(outcome_to_gp="details")
    for referral_id in (codes_only, details):
        await driver.contact(referral_id, reached=True)
        await driver.assess(referral_id)
        await driver.post(f"/referrals/{referral_id}/close", {"reason": "no_suitable_service"})
        await driver.wait_closed(referral_id)

    (message,) = [m.payload for m in driver.outbox(codes_only) if m.kind == "gp_outcome"]
    assert message["outcome_details_withheld"] is True
    assert "measures" not in message and "services_taken_up" not in message
    assert message["closure_reason"] == "no_suitable_service"
    assert message["snomed"]["code"]

    (message,) = [m.payload for m in driver.outbox(details) if m.kind == "gp_outcome"]
    assert message["outcome_details_withheld"] is False
    assert message["measures"]["baseline"]["measures"][0]["instrument"] == "swemwbs"


def names_no_service_or_organisation(text: str) -> bool:
    # Directory ids are svc-... and org-...; nothing else a practice sees is spelled so.
    return "svc-" not in text and "org-" not in text


async def practice_reads(driver: Driver, path: str) -> tuple[Any, str]:
    response = await driver.http.get(path, headers=await driver.headers_for(PRACTICE))
    assert response.status_code == 200, response.text
    return response.json(), response.text


async def test_with_codes_only_the_practice_sees_status_and_codes_but_not_the_services(
    driver: Driver,
) -> None:
    referral_id, walks = await connected_to_walks(driver, outcome_to_gp="codes_only")

    # While the organisation has the referral: no service referral, no organisation task.
    detail, text = await practice_reads(driver, f"/referrals/{referral_id}")
    assert detail["status"] == "connecting"
    assert detail["service_referrals"] == []
    assert detail["state"]["service_referrals"] == []
    assert detail["state"]["suggested_service_ids"] == []
    assert {task["assignee_kind"] for task in detail["tasks"]} <= {"link_worker", "team_lead"}
    assert [entry["action"] for entry in detail["timeline"]][-1] == "connected"
    assert walks not in text and names_no_service_or_organisation(text)

    await driver.respond(walks, LEISURE, accepted=True)
    await driver.uptake(walks, LEISURE, started=True)
    await driver.record_both_follow_ups(referral_id)

    detail, text = await practice_reads(driver, f"/referrals/{referral_id}")
    assert (detail["status"], detail["closure_reason"]) == ("closed", "completed")
    assert detail["need_codes"] == ["sp-social-groups", "sp-physical-activity"]
    assert detail["service_referrals"] == []
    (closed,) = [entry for entry in detail["timeline"] if entry["action"] == "closed"]
    assert closed["detail"]["closure_reason"] == "completed"
    # The organisation's own steps are there, but not who took them or about which service.
    accepted = [e for e in detail["timeline"] if e["action"] == "organisation_accepted"]
    assert [(e["actor_kind"], e["actor_id"]) for e in accepted] == [("organisation", "withheld")]
    assert walks not in text and names_no_service_or_organisation(text)

    # The FHIR Task gives the outcome code, and no service taken up.
    task, text = await practice_reads(driver, f"/fhir/Task/{referral_id}")
    assert task["status"] == "completed"
    (outcome,) = task["output"]
    assert outcome["valueCodeableConcept"]["coding"][0]["code"] == "871731000000106"
    assert names_no_service_or_organisation(text)
    search, text = await practice_reads(driver, f"/fhir/Task?based-on=ServiceRequest/{referral_id}")
    assert search["entry"][0]["resource"] == task
    assert names_no_service_or_organisation(text)

    # The link worker runs the referral and sees everything.
    seen = await driver.detail(referral_id)
    assert [s["service_id"] for s in seen["service_referrals"]] == ["svc-health-walks"]
    assert [s["id"] for s in seen["state"]["service_referrals"]] == [walks]
    accepted = [e for e in seen["timeline"] if e["action"] == "organisation_accepted"]
    assert accepted[0]["actor_id"] == LEISURE
    assert accepted[0]["detail"]["service_referral_id"] == walks
    task = await driver.get(f"/fhir/Task/{referral_id}", actor=LINK_WORKER)
    assert task["output"][1]["valueReference"]["identifier"]["value"] == "svc-health-walks"


async def test_the_practices_own_steps_answer_with_what_consent_allows(driver: Driver) -> None:
    codes_only, codes_only_walks = await connected_to_walks(driver, outcome_to_gp="codes_only")
    details, details_walks = await connected_to_walks(driver, outcome_to_gp="details")

    withdrawn = await driver.post(f"/referrals/{codes_only}/withdraw-consent", {}, actor=PRACTICE)
    assert (withdrawn["status"], withdrawn["closure_reason"]) == ("closed", "consent_withdrawn")
    assert withdrawn["service_referrals"] == [] and withdrawn["suggested_service_ids"] == []
    assert codes_only_walks not in str(withdrawn)
    # It still happened to the service referral, as the link worker sees.
    (service_referral,) = (await driver.detail(codes_only))["service_referrals"]
    assert (service_referral["id"], service_referral["status"]) == (codes_only_walks, "withdrawn")

    # With details agreed, the practice sees the services involved, in every view.
    cancelled = await driver.post(f"/referrals/{details}/cancel", {}, actor=PRACTICE)
    assert [s["id"] for s in cancelled["service_referrals"]] == [details_walks]
    await driver.wait_closed(details)
    detail, _ = await practice_reads(driver, f"/referrals/{details}")
    assert [s["service_id"] for s in detail["service_referrals"]] == ["svc-health-walks"]
    assert any(task["assignee_id"] == LEISURE for task in detail["tasks"])
    await driver.wait_closed(codes_only)
