"""/metrics counts the API's requests by route template and status, and the steps refused
with 409; no series carries a path's identifiers or a person's details."""

from prometheus_client.parser import text_string_to_metric_families

from tests.support.driver import Driver


def value(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


async def scrape(driver: Driver) -> str:
    response = await driver.http.get("/metrics")
    assert response.status_code == 200, response.text
    return response.text


async def test_requests_and_refused_steps_are_counted_by_route_template(driver: Driver) -> None:
    referral_id = await driver.submit()
    before = await scrape(driver)

    await driver.contact(referral_id)
    await driver.follow_up(referral_id, 1, expect=409)  # no follow-up is open yet
    missing = await driver.http.get(f"/no-such-page/{referral_id}")
    assert missing.status_code == 404
    after = await scrape(driver)

    contact = {"method": "POST", "route": "/referrals/{referral_id}/contact-attempts"}
    follow_up = {"method": "POST", "route": "/referrals/{referral_id}/follow-ups/{checkpoint}"}
    name = "socialrx_http_requests_total"
    for labels, status in ((contact, "200"), (follow_up, "409")):
        grown = value(after, name, **labels, status=status) - value(
            before, name, **labels, status=status
        )
        assert grown == 1, (labels, status)
    assert value(after, "socialrx_http_requests_total", method="GET", route="unmatched",
                 status="404") >= 1  # fmt: skip
    assert value(after, "socialrx_http_request_duration_seconds_count", **contact) >= 1
    assert (
        value(after, "socialrx_steps_refused_total") - value(before, "socialrx_steps_refused_total")
        == 1
    )
    assert value(after, "socialrx_open_referrals", status="contacting") == 1
    # Labels are templates: no referral ID, and nothing the practice sent about the person.
    assert str(referral_id) not in after
    for detail in driver.personal_details():
        assert detail not in after
