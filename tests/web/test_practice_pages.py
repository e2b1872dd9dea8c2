"""A GP practice's pages, in a real browser against the real app, worker and Temporal server:
refer someone (with check your answers), follow their referrals, see the outcome as consent
allows, cancel, and what answers 404. Every page and error state passes axe."""

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain.enums import ReferralStatus
from domain.messages import workflow_id_for
from domain.tables import Person, Referral
from tests.support.browser import check_page, running_app, sign_in
from tests.support.driver import Driver
from tests.support.practice_referral import NHS_NUMBER, fill_in_the_form, referral_ids
from tests.support.system import running_system
from tests.support.web_people import PASSWORD, People
from tests.web.data import a_referral

pytestmark = pytest.mark.system

LEISURE = "org-millbrook-leisure-trust"
SWEMWBS_BEFORE = {"instrument": "swemwbs", "answers": {f"item{i}": 2 for i in range(1, 8)}}


@pytest.fixture
async def system(
    time_skipping_env: WorkflowEnvironment, engine: Engine, settings: Settings
) -> AsyncIterator[Driver]:
    """A worker and Temporal for the pages' steps; referrals made through the pages are
    ended with the test (and their histories checked for personal data) like the driver's."""
    async with running_system(time_skipping_env, engine, settings, False) as driver:
        yield driver
        with Session(engine) as session:
            people = session.exec(select(Person)).all()
        for person in people:
            if person.referral_id in driver.submitted:
                continue
            handle = time_skipping_env.client.get_workflow_handle(
                workflow_id_for(person.referral_id)
            )
            try:
                await handle.describe()
            except RPCError:
                continue  # rows written straight to the database (tests.web.data)
            driver.submitted[person.referral_id] = person.model_dump(mode="json")


@pytest.fixture
def app_url(
    system: Driver, settings: Settings, time_skipping_env: WorkflowEnvironment
) -> Iterator[str]:
    """The pages' app, on the worker's task queue (overrides tests/web's app without one)."""
    with_queue = settings.model_copy(update={"task_queue": system.task_queue})
    with running_app(with_queue, time_skipping_env.client) as base_url:
        yield base_url


async def test_refer_check_answers_change_one_and_send_once(
    page: Page, people: People, engine: Engine
) -> None:
    await sign_in(page, people["practice"].username, PASSWORD)
    await (
        page.get_by_role("navigation", name="Your pages")
        .get_by_role("link", name="Refer someone")
        .click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Refer someone to social prescribing"
    )
    await check_page(page, "practice-refer")
    await fill_in_the_form(page)
    await page.get_by_role("button", name="Continue").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before sending the referral"
    )
    answers = page.locator(".nhsuk-summary-list")
    await expect(answers).to_contain_text("943 476 5919")
    await expect(answers).to_contain_text("MB3 7QX")
    await expect(answers).to_contain_text("14 March 1948")
    await expect(answers).to_contain_text("Text message")
    await expect(answers).to_contain_text("Physical activity")
    assert "Marigold" not in page.url
    await check_page(page, "practice-check-answers")

    # Change one answer: back at the form, at that field, with every answer kept.
    await page.get_by_role("button", name="Change postcode").click()
    await expect(page).to_have_url(re.compile(r"/practice/refer/change#postcode$"))
    await expect(page.get_by_label("First name")).to_have_value("Marigold")
    await expect(page.get_by_label("Physical activity")).to_be_checked()
    await expect(page.get_by_label("Day")).to_have_value("14")
    await page.get_by_label("Postcode").fill("MB1 2AB")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.locator(".nhsuk-summary-list")).to_contain_text("MB1 2AB")

    # A double click: the same answers sent twice with the page's key make one referral.
    form = await page.locator("form#answers").evaluate(
        "form => Array.from(new FormData(form).entries())"
    )
    first = await page.request.post(
        "/practice/refer/send", multipart=None, form=dict(form), max_redirects=0
    )
    await page.get_by_role("button", name="Send referral").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Referral sent")
    (referral_id,) = referral_ids(engine)
    await expect(page.locator(".nhsuk-panel")).to_contain_text(str(referral_id))
    assert first.status == 303
    assert first.headers["location"] == f"/practice/referrals/{referral_id}/sent"
    await check_page(page, "practice-referral-sent")
    with Session(engine) as session:
        person = session.get(Person, referral_id)
        assert person is not None and person.postcode == "MB1 2AB"

    await page.get_by_role("link", name="View the referral").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Referral for Marigold Featherstonehaugh"
    )
    await expect(page.locator("main")).to_contain_text("Referral received")


async def test_validation_errors_link_to_their_fields_and_keep_the_answers(
    page: Page, people: People, engine: Engine
) -> None:
    await sign_in(page, people["practice"].username, PASSWORD, "/sign-in?next=/practice/refer")
    await page.get_by_role("button", name="Continue").click()
    summary = page.locator(".nhsuk-error-summary")
    await expect(summary).to_be_focused()
    await expect(page).to_have_title(re.compile("^Error: "))
    await expect(
        summary.get_by_role("link", name="Enter the person's NHS number")
    ).to_have_attribute("href", "#nhs_number")
    await expect(
        summary.get_by_role("link", name="Enter the person's date of birth")
    ).to_have_attribute("href", "#birth_date-day")
    await expect(
        summary.get_by_role("link", name="Select at least one thing the person needs help with")
    ).to_have_attribute("href", "#need_codes")
    await check_page(page, "practice-refer-errors-empty")

    await fill_in_the_form(page, nhs_number="1234567890")
    await page.get_by_label("Day").fill("31")
    await page.get_by_label("Month").fill("2")
    await page.get_by_label("Postcode").fill("not a postcode")
    await page.get_by_role("button", name="Continue").click()
    await expect(summary.get_by_role("link")).to_have_text(
        [
            "NHS number must be a valid 10-digit NHS number (check digit included)",
            "Date of birth must be a real date, for example 14 3 1948",
            "Postcode must be a UK postcode such as TS1 2AB",
        ]
    )
    await summary.get_by_role("link", name=re.compile("^Date of birth")).click()
    await expect(page.get_by_label("Day")).to_be_focused()
    await expect(page.get_by_label("First name")).to_have_value("Marigold")
    await expect(page.get_by_label("NHS number")).to_have_value("1234567890")
    await expect(page.get_by_label("Physical activity")).to_be_checked()
    await expect(page.get_by_label("Text message")).to_be_checked()
    await expect(page.locator("#nhs_number-error")).to_contain_text("valid 10-digit")
    await check_page(page, "practice-refer-errors")
    assert referral_ids(engine, "1234567890") == []


async def test_a_duplicate_referral_says_so_and_links_to_the_open_one(
    page: Page, people: People, system: Driver, engine: Engine
) -> None:
    existing = await system.submit(nhs_number=NHS_NUMBER)
    await sign_in(page, people["practice"].username, PASSWORD, "/sign-in?next=/practice/refer")
    await fill_in_the_form(page)
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("button", name="Send referral").click()
    summary = page.locator(".nhsuk-error-summary")
    await expect(summary).to_contain_text("This person already has an open referral")
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#nhs_number")
    await expect(page.get_by_label("First name")).to_have_value("Marigold")
    await check_page(page, "practice-refer-duplicate")
    await page.get_by_role("link", name="View their open referral").click()
    await expect(page).to_have_url(re.compile(f"/practice/referrals/{existing}$"))
    assert referral_ids(engine) == [existing]

    # Another practice's open referral for the person: said, but not linked to.
    other_practices = "9434765870"
    await system.submit(nhs_number=other_practices, practice_ods="A81002")
    await page.goto("/practice/refer")
    await fill_in_the_form(page, nhs_number=other_practices)
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("button", name="Send referral").click()
    await expect(summary).to_contain_text("This person already has an open referral")
    await expect(page.get_by_role("link", name="View their open referral")).to_have_count(0)


async def test_your_referrals_are_paged_newest_first_and_filtered_by_status(
    page: Page, people: People, engine: Engine
) -> None:
    made = [a_referral(engine, "A81001", f"Person{n:02d}", "Test") for n in range(28)]
    a_referral(engine, "A81002", "Walter", "Finch")
    with Session(engine) as session:
        start = datetime.now(UTC) - timedelta(days=60)
        for n, referral_id in enumerate(made):
            referral = session.get(Referral, referral_id)
            assert referral is not None
            referral.created_at = start + timedelta(days=n)
            if n % 7 == 0:
                referral.status = ReferralStatus.CLOSED
            session.add(referral)
        session.commit()
    await sign_in(page, people["practice"].username, PASSWORD)
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(25)
    await expect(rows.first).to_contain_text("Person27")
    await expect(page.locator("main")).not_to_contain_text("Walter")
    await check_page(page, "practice-referrals")
    await page.get_by_role("link", name="Page 2").click()
    await expect(rows).to_have_count(3)
    await expect(rows.last).to_contain_text("Person00")

    await page.get_by_label("Show referrals that are").select_option(label="Closed")
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(r"status=closed"))
    await expect(rows).to_have_count(4)  # 0, 7, 14, 21
    for n in range(4):
        await expect(rows.nth(n)).to_contain_text("Closed")
    await expect(rows.first).to_contain_text("Person21")
    await check_page(page, "practice-referrals-closed")
    response = await page.goto("/practice/referrals?status=nonsense")
    assert response is not None and response.status == 400


async def closed_with_outcome(driver: Driver, outcome_to_gp: str) -> UUID:
    referral_id = await driver.submit(outcome_to_gp=outcome_to_gp)
    await driver.contact(referral_id, reached=True)
    body: dict[str, Any] = {"need_codes": ["sp-social-groups"], "baseline": [SWEMWBS_BEFORE]}
    await driver.post(f"/referrals/{referral_id}/assessment", body)
    (walks,) = await driver.connect(referral_id, "svc-health-walks")
    await driver.respond(walks, LEISURE)
    await driver.uptake(walks, LEISURE)
    await driver.record_both_follow_ups(referral_id)
    return referral_id


async def test_the_outcome_shows_each_change_with_details_and_only_codes_without(
    page: Page, people: People, system: Driver
) -> None:
    details = await closed_with_outcome(system, "details")
    codes_only = await closed_with_outcome(system, "codes_only")
    await sign_in(page, people["practice"].username, PASSWORD)

    await page.goto(f"/practice/referrals/{details}")
    main = page.locator("main")
    await expect(main).to_contain_text("Completed")
    measure = page.locator("table", has_text="Short Warwick-Edinburgh Mental Wellbeing Scale")
    await expect(measure.locator("tbody tr")).to_contain_text(
        ["Score 15.32 25.03 +9.71 (better)"], use_inner_text=True
    )
    await expect(main).to_contain_text("This is a meaningful improvement.")
    await expect(main).to_contain_text("Millbrook health walks")
    await expect(main).to_contain_text("A service accepted the person")
    await expect(page.get_by_role("button", name="Cancel this referral")).to_have_count(0)
    await check_page(page, "practice-referral-outcome-details")

    await page.goto(f"/practice/referrals/{codes_only}")
    await expect(main).to_contain_text("only codes for their record come back to you")
    await expect(main).to_contain_text("SNOMED CT")
    await expect(main).to_contain_text("Completed")
    await expect(main).not_to_contain_text("15.32")
    await expect(main).not_to_contain_text("Millbrook health walks")
    await expect(page.locator("table")).to_have_count(0)
    await check_page(page, "practice-referral-outcome-codes-only")


async def test_cancel_asks_first_then_cancels_and_a_refused_step_says_why(
    page: Page, people: People, system: Driver
) -> None:
    referral_id = await system.submit()
    await sign_in(page, people["practice"].username, PASSWORD)
    await page.goto(f"/practice/referrals/{referral_id}")
    await page.get_by_role("button", name="Cancel this referral").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to cancel this referral?"
    )
    await check_page(page, "practice-cancel-confirm")
    await page.get_by_role("link", name="No, go back to the referral").click()
    await expect(page).to_have_url(re.compile(f"/practice/referrals/{referral_id}$"))
    await page.get_by_role("button", name="Cancel this referral").click()
    await page.get_by_role("button", name="Yes, cancel this referral").click()
    await expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "Referral cancelled"
    )
    await check_page(page, "practice-cancelled")
    await system.wait_closed(referral_id)
    detail = await system.detail(referral_id)
    assert detail["closure_reason"] == "cancelled_by_referrer"

    # Once closed, the workflow refuses: its reason is shown in the error summary.
    await page.goto(f"/practice/referrals/{referral_id}/withdraw-consent")
    system.notes.append("Told the receptionist on the phone")
    await page.get_by_label("Note (optional)").fill("Told the receptionist on the phone")
    await page.get_by_role("button", name="Yes, record that consent was withdrawn").click()
    summary = page.locator(".nhsuk-error-summary")
    await expect(summary).to_contain_text("closed")
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#action-button")
    await expect(page.get_by_label("Note (optional)")).to_have_value(
        "Told the receptionist on the phone"
    )
    await check_page(page, "practice-withdraw-refused")

    # Consent withdrawn on an open referral: asked first, recorded with its note.
    other = await system.submit()
    await page.goto(f"/practice/referrals/{other}")
    await page.get_by_role("button", name="Record that the person withdrew consent").click()
    note = "Phoned the practice to say no"
    system.notes.append(note)  # checked to be in no workflow history
    await page.get_by_label("Note (optional)").fill(note)
    await page.get_by_role("button", name="Yes, record that consent was withdrawn").click()
    await expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "Consent withdrawal recorded"
    )
    await system.wait_closed(other)
    assert (await system.detail(other))["closure_reason"] == "consent_withdrawn"


async def test_another_practices_referral_answers_404_on_every_page(
    page: Page, people: People, engine: Engine
) -> None:
    theirs = a_referral(engine, "A81002", "Walter", "Finch")
    await sign_in(page, people["practice"].username, PASSWORD)
    for path in ("", "/sent", "/cancel", "/withdraw-consent"):
        response = await page.goto(f"/practice/referrals/{theirs}{path}")
        assert response is not None and response.status == 404, path
        await expect(page.locator("main")).not_to_contain_text("Walter")
    await page.goto("/practice/refer")
    token = await page.locator("input[name=csrf_token]").first.input_value()
    for action in ("cancel", "withdraw-consent"):
        posted = await page.request.post(
            f"/practice/referrals/{theirs}/{action}", form={"csrf_token": token}
        )
        assert posted.status == 404, action
    with Session(engine) as session:
        referral = session.get(Referral, theirs)
        assert referral is not None and referral.status != ReferralStatus.CLOSED


async def tab_to(page: Page, element_id: str, limit: int = 80) -> None:
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


async def test_the_referral_form_works_by_keyboard_alone(
    page: Page, people: People, engine: Engine
) -> None:
    await sign_in(page, people["practice"].username, PASSWORD, "/sign-in?next=/practice/refer")
    typed = {
        "nhs_number": NHS_NUMBER,
        "given_name": "Marigold",
        "family_name": "Featherstonehaugh",
        "birth_date-day": "14",
        "birth_date-month": "3",
        "birth_date-year": "1948",
        "postcode": "MB3 7QX",
        "phone": "07700 900461",  # the first way to be contacted, a text, needs one
    }
    for element_id, text in typed.items():
        await tab_to(page, element_id)
        await page.keyboard.type(text)
    for element_id in ("preferred_contact", "contact_consent"):
        await tab_to(page, element_id)
        await page.keyboard.press("Space")
    await tab_to(page, "reason")
    await page.keyboard.type("Rarely leaves the house")
    await tab_to(page, "need_codes")
    await page.keyboard.press("Space")
    for element_id in ("consent_given", "share_with_organisations", "outcome_to_gp"):
        await tab_to(page, element_id)
        await page.keyboard.press("Space")
    await tab_to(page, "continue")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before sending the referral"
    )
    await tab_to(page, "send")
    await page.keyboard.press("Space")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Referral sent")
    assert len(referral_ids(engine)) == 1
