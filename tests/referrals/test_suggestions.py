"""The connect step uses matching: suggestions come from the person's needs, age and area."""

from tests.support.driver import Driver


async def test_assessment_asks_matching_and_the_choice_is_recorded_against_it(
    driver: Driver,
) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    # The GP's need codes already allow suggestions.
    before = await driver.get(f"/referrals/{referral_id}/suggestions")
    suggested_before = [s["service_id"] for s in before["suggestions"]]

    state = await driver.assess(referral_id)  # needs: social groups and physical activity
    suggested = state["suggested_service_ids"]
    assert "svc-health-walks" in suggested
    assert suggested != suggested_before, "the recorded needs, not the GP's, drive matching"
    # The person is 78: the youth club's ages exclude them; the inactive service never shows.
    assert "svc-youth-club" not in suggested
    assert "svc-home-from-hospital" not in suggested

    live = await driver.get(f"/referrals/{referral_id}/suggestions")
    assert [s["service_id"] for s in live["suggestions"]] == suggested
    top = live["suggestions"][0]
    assert set(top["met_needs"]) == {"sp-social-groups", "sp-physical-activity"}
    excluded = {e["service_id"]: e for e in live["excluded"]}
    assert "svc-youth-club" in excluded

    await driver.connect(referral_id, "svc-health-walks", "svc-benefits-advice")
    connected = [
        e for e in (await driver.detail(referral_id))["timeline"] if e["action"] == "connected"
    ]
    assert connected[0]["detail"]["suggested"] == "svc-health-walks"
    assert connected[0]["detail"]["services"] == "svc-health-walks,svc-benefits-advice"


async def test_suggestions_for_an_unknown_referral_are_404(driver: Driver) -> None:
    await driver.get("/referrals/00000000-0000-4000-8000-000000000000/suggestions", expect=404)
