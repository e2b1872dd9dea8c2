"""A link worker's pages against a real app, worker and (time-skipping) Temporal server:
finding the task, each step through its form, only the legal steps offered, a refused step
shown as an error, the team caseload, reassigning, and another team's referral as a 404."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain.enums import TaskKind
from domain.tables import LinkWorkerTeam, Practice
from tests.support.browser import check_page, sign_in, signed_in_page
from tests.support.driver import Driver
from tests.support.organisation_flow import connected_system
from tests.support.web_people import PASSWORD, People
from tests.web.data import a_referral, a_task

pytestmark = pytest.mark.system

STEP_BUTTONS = [
    "Record a contact attempt",
    "Record the 'what matters' conversation",
    "Connect to services",
]


class LinkWorkerSystem:
    def __init__(self, driver: Driver, page: Page) -> None:
        self.driver = driver
        self.page = page


@pytest.fixture
async def system(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    settings: Settings,
    people: People,
    new_context: Any,
) -> AsyncIterator[LinkWorkerSystem]:
    async with connected_system(time_skipping_env, engine, settings, False) as running:
        page = await signed_in_page(new_context, running.app_url, people["link_worker"].username)
        yield LinkWorkerSystem(running.driver, page)


async def expect_steps_offered(page: Page, *offered: str) -> None:
    """Exactly these of the main step buttons, in this order."""
    buttons = page.locator("#step-buttons a")
    await expect(buttons).to_have_text(list(offered))


async def submit_and_expect_banner(page: Page, button: str, banner: str) -> None:
    await page.get_by_role("button", name=button).click()
    await expect(page.locator(".nhsuk-notification-banner")).to_contain_text(banner)


async def test_a_referral_from_first_task_to_a_chosen_service(system: LinkWorkerSystem) -> None:
    page, driver = system.page, system.driver
    referral_id = await driver.submit()
    await driver.wait_for_task(referral_id, "first_contact")

    # The task, in plain words, leads to the person's referral.
    await page.goto("/tasks")
    row = page.locator("tbody tr").first
    await expect(row).to_contain_text("Marigold Featherstonehaugh")
    await expect(row).to_contain_text("Contact the person for the first time")
    await check_page(page, "lw-tasks")
    await row.get_by_role("link", name="Marigold Featherstonehaugh").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Marigold Featherstonehaugh")
    await expect(page.locator("#needs")).to_contain_text("Social groups")
    await expect_steps_offered(page, "Record a contact attempt")
    await expect(page.locator("#other-steps")).to_contain_text("Close the referral")
    await check_page(page, "lw-referral-assigned")

    # A failed contact attempt; the form first refuses to guess what happened.
    await page.get_by_role("link", name="Record a contact attempt").click()
    await page.get_by_role("button", name="Save contact attempt").click()
    summary = page.locator(".nhsuk-error-summary")
    await expect(summary).to_contain_text("Choose how you tried to contact the person")
    await expect(summary).to_contain_text("Choose yes if you spoke with the person")
    await check_page(page, "lw-contact-errors")
    await page.get_by_label("Phone call").check()
    await page.get_by_label("No", exact=True).check()
    await page.get_by_label("Note (optional)").fill("Rang twice, no answer; left a message")
    await submit_and_expect_banner(page, "Save contact attempt", "Contact attempt recorded")
    await expect_steps_offered(page, "Record a contact attempt")

    # Then a successful one: now the conversation is offered, and no more attempts.
    await page.get_by_role("link", name="Record a contact attempt").click()
    await page.get_by_label("Phone call").check()
    await page.get_by_label("Yes", exact=True).check()
    await submit_and_expect_banner(page, "Save contact attempt", "Contact attempt recorded")
    await expect_steps_offered(page, "Record the 'what matters' conversation")
    await expect(page.locator("#notes")).to_contain_text("Rang twice, no answer")

    # The conversation, with SWEMWBS in full and UCLA-3 only in part at first.
    await page.get_by_role("link", name="Record the 'what matters' conversation").click()
    conversation_url = page.url
    await expect(page.get_by_label("Social groups")).to_be_checked()
    await page.get_by_label("Goal 1").fill("Join the Quillfeather choir")
    for item in range(1, 8):
        await page.locator(f"#swemwbs-item{item}-2").check()  # "Rarely"
    await page.locator("#ucla3-lack_companionship-3").check()
    await check_page(page, "lw-conversation")
    await page.get_by_role("button", name="Save the conversation").click()
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "UCLA 3-item loneliness scale: answer 'How often do you feel left out?'"
    )
    await check_page(page, "lw-conversation-errors")
    # What was answered is still there.
    await expect(page.locator("#swemwbs-item7-2")).to_be_checked()
    await page.locator("#ucla3-left_out-3").check()
    await page.locator("#ucla3-isolated-2").check()
    await submit_and_expect_banner(
        page, "Save the conversation", "'What matters' conversation recorded"
    )
    await expect_steps_offered(page, "Connect to services")
    baseline = {o.instrument: o.answers for o in driver.outcomes(referral_id)}
    assert baseline["swemwbs"] == {f"item{i}": 2 for i in range(1, 8)}
    assert baseline["ucla3"] == {"lack_companionship": 3, "left_out": 3, "isolated": 2}

    # A stale form, posted again: the workflow's refusal is the error.
    await page.goto(conversation_url)
    await page.locator("#swemwbs-item1-3").check()
    for item in range(2, 8):
        await page.locator(f"#swemwbs-item{item}-3").check()
    await page.get_by_role("button", name="Save the conversation").click()
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "The 'what matters' conversation is already recorded."
    )
    await check_page(page, "lw-conversation-refused")

    # Connecting: the suggestions say why; a search finds more; one service chosen.
    await page.goto(f"/caseload/referrals/{referral_id}")
    await page.get_by_role("link", name="Connect to services").click()
    await page.get_by_role("button", name="Send referrals").click()
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Choose at least one service"
    )
    suggestions = page.locator("#service_ids").locator("xpath=ancestor::fieldset")
    await expect(suggestions).to_contain_text("meets 1 of 1 needs")
    await page.get_by_label("Search the directory").fill("walk")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_text("walk", exact=False).first).to_be_visible()
    await check_page(page, "lw-connect")
    await page.locator("#service_ids").check()
    await submit_and_expect_banner(
        page, "Send referrals", "Referral sent to the services you chose"
    )
    detail = await driver.detail(referral_id)
    assert len(detail["service_referrals"]) == 1
    await expect(page.locator("main")).to_contain_text("Waiting for the organisation's answer")
    await check_page(page, "lw-referral-connected")

    # A follow-up before any checkpoint: the form shows the baseline, the workflow refuses.
    await page.goto(f"/caseload/referrals/{referral_id}/follow-up/1")
    await expect(page.locator("main")).to_contain_text("At the start: Rarely (2)")
    for item in range(1, 8):
        await page.locator(f"#swemwbs-item{item}-4").check()  # "Often"
    await page.get_by_role("button", name="Save follow-up 1").click()
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "There is no follow-up checkpoint 1"
    )
    await check_page(page, "lw-follow-up-refused")

    # The organisation accepts and the person starts; the first checkpoint opens.
    service_referral = detail["service_referrals"][0]
    await driver.respond(service_referral["id"], service_referral["organisation_id"])
    await driver.uptake(service_referral["id"], service_referral["organisation_id"])
    await driver.skip(timedelta(weeks=13, hours=1))
    await driver.wait_for_status(referral_id, "follow_up")
    await page.goto(f"/caseload/referrals/{referral_id}")
    await expect_steps_offered(page, "Record follow-up 1")
    await page.get_by_role("link", name="Record follow-up 1").click()
    for item in range(1, 8):
        await page.locator(f"#swemwbs-item{item}-4").check()
    await check_page(page, "lw-follow-up")
    await submit_and_expect_banner(page, "Save follow-up 1", "Follow-up recorded")
    await expect(page.locator("#step-buttons")).to_have_count(0)
    await expect(page.locator("main")).to_contain_text("Nothing is due from you")
    later = [o for o in driver.outcomes(referral_id) if o.checkpoint != "baseline"]
    assert [(o.instrument, o.answers) for o in later] == [
        ("swemwbs", {f"item{i}": 4 for i in range(1, 8)})
    ]


def another_teams_referral(engine: Engine) -> UUID:
    with Session(engine) as session:
        session.add(LinkWorkerTeam(id="other-team", name="Another team"))
        session.flush()
        session.add(Practice(ods_code="Z99999", name="Elsewhere Surgery", team_id="other-team"))
        session.commit()
    return a_referral(engine, "Z99999", "Agnes", "Elsewhere", link_worker_id=None)


async def test_the_team_caseload_filters_counts_and_reassigns(
    system: LinkWorkerSystem, engine: Engine
) -> None:
    page, driver = system.page, system.driver
    mine = await driver.submit(given_name="Marigold")  # the least loaded: Amira
    bens = await driver.submit(given_name="Walter")  # then Ben
    foreign = another_teams_referral(engine)

    await page.goto("/caseload")
    counts = page.locator("#open-counts")
    await expect(counts).to_contain_text("Amira Khan (you): 1")
    await expect(counts).to_contain_text("Ben Okafor: 1")
    await expect(page.locator("tbody tr")).to_have_count(2)
    await check_page(page, "lw-caseload")

    await page.get_by_label("Link worker").select_option(label="Ben Okafor")
    await page.get_by_role("button", name="Show referrals").click()
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.locator("tbody")).to_contain_text("Walter Featherstonehaugh")
    await expect(page.locator("#caseload-count")).to_contain_text("1 open referral matches")

    await page.goto("/caseload?status=closed")
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Choose one of the statuses in the list"
    )
    await check_page(page, "lw-caseload-bad-filter")

    # Covering for Ben: Amira takes Walter's referral.
    await page.goto("/caseload?link_worker=lw-ben")
    await page.get_by_role("link", name="Walter Featherstonehaugh").click()
    # At 320 px, the working screen does not run off the side.
    await page.set_viewport_size({"width": 320, "height": 640})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await check_page(page, "lw-referral-320px")
    await page.set_viewport_size({"width": 1280, "height": 720})
    await page.get_by_role("link", name="Pass to another link worker").click()
    await page.get_by_role("button", name="Pass the referral on").click()
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Choose who to pass the referral to"
    )
    await check_page(page, "lw-reassign-error")
    await page.get_by_label("Amira Khan (you)").check()
    await submit_and_expect_banner(
        page, "Pass the referral on", "Referral passed to your colleague"
    )
    await expect(page.locator("main")).to_contain_text("Link worker: Amira Khan")
    await page.goto("/caseload")
    await expect(counts).to_contain_text("Amira Khan (you): 2")
    await expect(counts).to_contain_text("Ben Okafor: 0")

    # The other forms, shown and checked (closing is the last step here).
    await page.goto(f"/caseload/referrals/{mine}/consent-withdrawn")
    await check_page(page, "lw-consent-withdrawn")
    await page.goto(f"/caseload/referrals/{bens}/close")
    await page.get_by_label("The person does not want social prescribing").check()
    await page.get_by_label("Note (optional)").fill("Would rather not, for now")
    await check_page(page, "lw-close")
    await submit_and_expect_banner(page, "Close the referral", "Referral closed")
    await expect(page.locator("main")).to_contain_text(
        "There is nothing for you to record on this referral now."
    )
    await expect(page.locator("#step-buttons")).to_have_count(0)

    # Another team's referral, and its forms, do not exist for Amira.
    for path in ("", "/contact", "/close"):
        response = await page.goto(f"/caseload/referrals/{foreign}{path}")
        assert response is not None and response.status == 404
        await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    await check_page(page, "lw-foreign-referral")


async def test_thirty_tasks_come_in_pages_and_a_referral_without_temporal_says_so(
    page: Page, people: People, engine: Engine
) -> None:
    """Read-only pages, no Temporal: the ``page`` fixture's app has none."""
    edith = a_referral(engine, "A81001", "Edith", "Marsh")
    for day in range(30):
        a_task(engine, edith, TaskKind.FOLLOW_UP, timedelta(days=day - 2))
    await sign_in(page, people["link_worker"].username, PASSWORD)
    await page.goto("/tasks")
    await expect(page.locator("main")).to_contain_text("You have 30 open tasks: 3 overdue")
    await expect(page.locator("tbody tr")).to_have_count(25)
    await expect(page.locator("tbody tr").first).to_contain_text("Overdue")
    await check_page(page, "lw-tasks-30")
    await page.get_by_role("link", name="Next").click()
    await expect(page.locator("tbody tr")).to_have_count(5)
    await expect(page.locator("tbody tr").first).not_to_contain_text("Overdue")

    await page.locator("tbody tr").first.get_by_role("link", name="Edith Marsh").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Edith Marsh")
    await expect(page.locator("main")).to_contain_text("We cannot check this referral's steps")
    await expect(page.locator("#step-buttons")).to_have_count(0)
    await expect(page.locator("#open-tasks li")).to_have_count(30)
    await check_page(page, "lw-referral-no-temporal")
