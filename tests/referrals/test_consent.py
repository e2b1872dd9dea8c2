"""Consent recorded at intake decides what organisations see and what goes back to the GP."""

from uuid import UUID

from tests.referrals.driver import PRACTICE, Driver, organisation_actor

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

    # The message that told the organisation about the referral follows the same rule.
    (told,) = [m for m in driver.outbox(private) if m.kind == "organisation_referral"]
    assert told.payload["reason"] is None
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
