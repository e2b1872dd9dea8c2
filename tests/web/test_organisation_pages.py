"""A voluntary organisation's pages: the referrals sent to it, answering one, its services."""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from catalogue.tables import ServiceCapacity
from core.settings import Settings
from domain.enums import ServiceReferralStatus
from domain.tables import ServiceReferral
from tests.support.browser import check_page, sign_in, signed_in_page
from tests.support.organisation_flow import (
    ConnectedSystem,
    a_service_of,
    connected_system,
    service_referral_to,
)
from tests.support.web_people import PASSWORD, PEOPLE, People
from tests.web.data import a_referral

pytestmark = pytest.mark.system

ORGANISATION = PEOPLE["organisation"].organisation_id
OTHER_ORGANISATION = "org-canal-side-studios"


def a_service_referral_with(
    engine: Engine,
    organisation_id: str,
    status: ServiceReferralStatus,
    respond_in: timedelta,
    sent_ago: timedelta = timedelta(days=3),
) -> UUID:
    referral_id = a_referral(engine, "A81001", "Edith", "Marsh")
    service_referral_id = uuid4()
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.add(
            ServiceReferral(
                id=service_referral_id,
                referral_id=referral_id,
                service_id=a_service_of(engine, organisation_id),
                organisation_id=organisation_id,
                status=status,
                sent_at=now - sent_ago,
                respond_by=now + respond_in,
            )
        )
        session.commit()
    return service_referral_id


async def test_the_inbox_puts_answers_due_first_tagged_and_another_organisations_is_not_found(
    page: Page, people: People, engine: Engine
) -> None:
    organisation = people["organisation"]
    later = a_service_referral_with(
        engine, ORGANISATION, ServiceReferralStatus.PENDING, timedelta(days=10)
    )
    declined = a_service_referral_with(
        engine, ORGANISATION, ServiceReferralStatus.DECLINED, timedelta(days=5), timedelta(days=1)
    )
    accepted = a_service_referral_with(
        engine, ORGANISATION, ServiceReferralStatus.ACCEPTED, timedelta(days=5)
    )
    soon = a_service_referral_with(
        engine, ORGANISATION, ServiceReferralStatus.PENDING, timedelta(days=1)
    )
    overdue = a_service_referral_with(
        engine, ORGANISATION, ServiceReferralStatus.PENDING, -timedelta(hours=30)
    )
    foreign = a_service_referral_with(
        engine, OTHER_ORGANISATION, ServiceReferralStatus.PENDING, timedelta(days=3)
    )

    await sign_in(page, organisation.username, PASSWORD)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Referrals to you")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(5)
    links = [await rows.nth(i).get_by_role("link").get_attribute("href") for i in range(5)]
    assert links == [
        f"/organisation/service-referrals/{sid}"
        for sid in (overdue, soon, later, accepted, declined)
    ]
    await expect(rows.nth(0)).to_contain_text("Overdue")
    await expect(rows.nth(1)).to_contain_text("Due soon")
    await expect(rows.nth(2)).not_to_contain_text("Due")
    await expect(rows.nth(3)).to_contain_text("Accepted")
    await expect(rows.nth(4)).to_contain_text("Declined")
    await check_page(page, "organisation-referrals")

    await rows.nth(0).get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Referral for")
    await expect(page.locator(".nhsuk-summary-list")).to_contain_text("Edith Marsh")
    await expect(page.get_by_role("group", name="Can you take this referral?")).to_be_visible()
    await check_page(page, "organisation-service-referral")

    answer = await page.goto(f"/organisation/service-referrals/{foreign}")
    assert answer is not None and answer.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    await expect(page.locator("main")).not_to_contain_text("Edith")


async def test_an_organisation_updates_its_services_capacity_and_is_told_what_to_fix(
    page: Page, people: People, engine: Engine
) -> None:
    organisation = people["organisation"]
    service_id = a_service_of(engine, ORGANISATION)
    await sign_in(page, organisation.username, PASSWORD)
    await (
        page.get_by_role("navigation", name="Your pages")
        .get_by_role("link", name="Your services")
        .click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your services")
    await check_page(page, "organisation-services")
    form = page.locator(f"form[action='/organisation/services/{service_id}']")
    await form.get_by_label("Places free now").fill("minus three")
    await form.get_by_role("button").click()
    summary = page.locator(".nhsuk-error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("Enter the number of places free as a whole number")
    await expect(page).to_have_title(re.compile("^Error: "))
    await check_page(page, "organisation-services-error")
    await summary.get_by_role("link").click()
    await expect(page.locator(f"#available-{service_id}")).to_be_focused()

    form = page.locator(f"form[action='/organisation/services/{service_id}']")
    await form.get_by_label("Places free now").fill("4")
    await form.get_by_label("Places in all").fill("12")
    await form.get_by_role("group", name="Do you take names when full?").get_by_label("Yes").check()
    await form.get_by_label("Closed for now").check()
    await form.get_by_role("button").click()
    await expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Your service was updated"
    )
    with Session(engine) as session:
        capacity = session.exec(
            select(ServiceCapacity).where(ServiceCapacity.service_id == service_id)
        ).one()
        assert (capacity.available, capacity.maximum, capacity.waiting_list) == (4, 12, True)

    # Another organisation's service is not theirs to change, as in the JSON API (403).
    other = a_service_of(engine, OTHER_ORGANISATION)
    token = await page.locator("input[name=csrf_token]").first.input_value()
    refused = await page.request.post(
        f"/organisation/services/{other}", form={"csrf_token": token, "available": "1"}
    )
    assert refused.status == 403


@pytest.fixture
async def system(
    time_skipping_env: WorkflowEnvironment, engine: Engine, settings: Settings
) -> AsyncIterator[ConnectedSystem]:
    async with connected_system(time_skipping_env, engine, settings) as running:
        yield running


@pytest.fixture
async def organisation_page(
    new_context, system: ConnectedSystem, people: People
) -> AsyncIterator[Page]:
    yield await signed_in_page(new_context, system.app_url, people["organisation"].username)


async def test_accepting_by_keyboard_alone_then_saying_the_person_started(
    organisation_page: Page, system: ConnectedSystem
) -> None:
    page = organisation_page
    service_referral_id = await service_referral_to(system.driver, ORGANISATION)
    await page.goto(f"/organisation/service-referrals/{service_referral_id}")
    # Keyboard only: tab to the first answer, choose it, tab to the button, press Enter.
    accept = page.get_by_label("Yes, accept the referral")
    for _ in range(60):
        await page.keyboard.press("Tab")
        if await accept.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the Accept answer")
    await page.keyboard.press("Space")
    await expect(accept).to_be_checked()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Send your answer")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "You accepted the referral"
    )
    await check_page(page, "organisation-accepted")

    await page.get_by_label("Yes, they started").check()
    await page.get_by_role("button", name="Send your answer").click()
    await expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "You said the person started"
    )
    await expect(page.locator(".nhsuk-summary-list")).to_contain_text("Started")
    detail = await system.driver.get(
        f"/service-referrals/{service_referral_id}", actor=f"organisation:{ORGANISATION}"
    )
    assert detail["status"] == "started"


async def test_declining_needs_a_reason_and_a_stale_answer_is_refused(
    organisation_page: Page, system: ConnectedSystem
) -> None:
    page = organisation_page
    service_referral_id = await service_referral_to(system.driver, ORGANISATION)
    address = f"/organisation/service-referrals/{service_referral_id}"
    stale = await page.context.new_page()
    await stale.goto(address)

    await page.goto(address)
    await page.get_by_role("button", name="Send your answer").click()
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Select whether you accept or decline the referral"
    )
    await check_page(page, "organisation-answer-missing")
    await page.get_by_label("No, decline the referral").check()
    await page.get_by_role("button", name="Send your answer").click()
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Select why you are declining"
    )
    await check_page(page, "organisation-reason-missing")
    await page.get_by_label("No, decline the referral").check()
    await page.get_by_label("We have no places free").check()
    await page.get_by_role("button", name="Send your answer").click()
    await expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "You declined the referral"
    )
    await expect(page.get_by_text("There is nothing more for you to do")).to_be_visible()

    # The page opened before the decline still offers Accept: the workflow refuses it (409).
    await stale.get_by_label("Yes, accept the referral").check()
    await stale.get_by_role("button", name="Send your answer").click()
    await expect(stale.locator(".nhsuk-error-summary")).to_be_visible()
    await expect(stale).to_have_title(re.compile("^Error: "))
    await check_page(stale, "organisation-answer-refused")
