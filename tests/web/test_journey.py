"""One referral's whole life through the pages alone, as its three users see it: the practice
refers, the link worker contacts, talks with and connects the person, the organisation accepts
and says they started, the link worker records both follow-ups as time passes, and the
practice sees the referral closed with the change in the person's wellbeing.

Only accounts, the directory and the Temporal server's clock are touched outside the browser;
every step is a form on a page, against a real app, worker and time-skipping Temporal server.
"""

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, NamedTuple

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain.tables import Person
from tests.support.browser import check_page, signed_in_page
from tests.support.driver import Driver
from tests.support.organisation_flow import connected_system
from tests.support.practice_referral import fill_in_the_form, referral_ids
from tests.support.temporal_env import skip_time
from tests.support.web_people import People

pytestmark = pytest.mark.system

# A need the Millbrook Arts Collective (``people["organisation"]``) meets, so one of its
# services is suggested to the link worker.
NEED = "Arts and creativity"
SERVICE = "Open Studio painting sessions"


class Journey(NamedTuple):
    driver: Driver
    open_page_as: Callable[[str], Awaitable[Page]]


@pytest.fixture
async def journey(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    settings: Settings,
    people: People,
    new_context: Any,
) -> AsyncIterator[Journey]:
    async with connected_system(time_skipping_env, engine, settings, False) as running:

        async def open_page_as(role: str) -> Page:
            """A browser of one's own, signed in as the person with that role."""
            return await signed_in_page(new_context, running.app_url, people[role].username)

        yield Journey(running.driver, open_page_as)


async def reload_until_shown(page: Page, address: str, wanted: Locator) -> None:
    """The workflow's projections land a moment after a step or a timer: look again until
    the page shows what is due, as its user would."""
    for _ in range(100):
        await page.goto(address)
        if await wanted.count():
            return
        await asyncio.sleep(0.1)
    await expect(wanted).to_be_visible()  # fails, saying what never appeared


async def submit_and_expect_banner(page: Page, button: str, banner: str) -> None:
    await page.get_by_role("button", name=button).click()
    await expect(page.locator(".nhsuk-notification-banner")).to_contain_text(banner)


async def answer_swemwbs(page: Page, answer: int) -> None:
    for item in range(1, 8):
        await page.locator(f"#swemwbs-item{item}-{answer}").check()


async def test_a_referral_from_the_practice_to_its_outcome_through_the_pages(
    journey: Journey, engine: Engine
) -> None:
    # 1. The practice refers, checks its answers and sends.
    practice = await journey.open_page_as("practice")
    await practice.goto("/practice/refer")
    await fill_in_the_form(practice, need=NEED)
    await practice.get_by_role("button", name="Continue").click()
    answers = practice.locator(".nhsuk-summary-list")
    await expect(answers).to_contain_text(NEED)
    await expect(answers).to_contain_text("Also the services they used")
    await practice.get_by_role("button", name="Send referral").click()
    await expect(practice.get_by_role("heading", level=1)).to_have_text("Referral sent")
    (referral_id,) = referral_ids(engine)
    with Session(engine) as session:
        person = session.get(Person, referral_id)
        assert person is not None
        # Its workflow is ended with the test and its history checked for personal details.
        journey.driver.submitted[referral_id] = person.model_dump(mode="json")

    # 2. The link worker finds the task, fails to reach the person, then reaches them.
    link_worker = await journey.open_page_as("link_worker")
    task = link_worker.locator("tbody tr", has_text="Marigold Featherstonehaugh")
    await reload_until_shown(link_worker, "/tasks", task)
    await expect(task).to_contain_text("Contact the person for the first time")
    await task.get_by_role("link", name="Marigold Featherstonehaugh").click()
    referral_address = f"/caseload/referrals/{referral_id}"
    await expect(link_worker).to_have_url(re.compile(f"{referral_address}$"))
    await link_worker.get_by_role("link", name="Record a contact attempt").click()
    await link_worker.get_by_label("Phone call").check()
    await link_worker.get_by_label("No", exact=True).check()
    await submit_and_expect_banner(link_worker, "Save contact attempt", "Contact attempt recorded")
    await link_worker.get_by_role("link", name="Record a contact attempt").click()
    await link_worker.get_by_label("Phone call").check()
    await link_worker.get_by_label("Yes", exact=True).check()
    await submit_and_expect_banner(link_worker, "Save contact attempt", "Contact attempt recorded")

    # The conversation, with every SWEMWBS answer "Rarely" (2) at the start.
    await link_worker.get_by_role("link", name="Record the 'what matters' conversation").click()
    await expect(link_worker.get_by_label(NEED)).to_be_checked()
    await link_worker.get_by_label("Goal 1").fill("Paint again, with other people")
    await answer_swemwbs(link_worker, 2)
    await submit_and_expect_banner(
        link_worker, "Save the conversation", "'What matters' conversation recorded"
    )

    # 3. The Arts Collective's service is suggested for the need; the person is connected.
    await link_worker.get_by_role("link", name="Connect to services").click()
    suggestion = link_worker.get_by_label(SERVICE, exact=False)
    await expect(suggestion).to_have_count(1)
    await suggestion.check()
    await submit_and_expect_banner(
        link_worker, "Send referrals", "Referral sent to the services you chose"
    )
    await expect(link_worker.locator("main")).to_contain_text(
        "Waiting for the organisation's answer"
    )

    # 4. The organisation finds it among the referrals to it, accepts, and says they started.
    organisation = await journey.open_page_as("organisation")
    await expect(organisation.get_by_role("heading", level=1)).to_have_text("Referrals to you")
    await organisation.get_by_role("link", name=SERVICE).click()
    await expect(organisation.locator(".nhsuk-summary-list")).to_contain_text(
        "Marigold Featherstonehaugh"
    )
    await organisation.get_by_label("Yes, accept the referral").check()
    await submit_and_expect_banner(organisation, "Send your answer", "You accepted the referral")
    await organisation.get_by_label("Yes, they started").check()
    await submit_and_expect_banner(organisation, "Send your answer", "You said the person started")

    # 5. Thirteen weeks on, follow-up 1 is due: "Sometimes" (3) now.
    await skip_time(journey.driver.env, timedelta(weeks=13, hours=1))
    first = link_worker.get_by_role("link", name="Record follow-up 1")
    await reload_until_shown(link_worker, referral_address, first)
    await first.click()
    await expect(link_worker.locator("main")).to_contain_text("At the start: Rarely (2)")
    await answer_swemwbs(link_worker, 3)
    await submit_and_expect_banner(link_worker, "Save follow-up 1", "Follow-up recorded")

    # At the second checkpoint, "Often" (4).
    await skip_time(journey.driver.env, timedelta(weeks=4))
    second = link_worker.get_by_role("link", name="Record follow-up 2")
    await reload_until_shown(link_worker, referral_address, second)
    await second.click()
    await answer_swemwbs(link_worker, 4)
    await submit_and_expect_banner(link_worker, "Save follow-up 2", "Follow-up recorded")

    # 6. The referral closes; the practice sees the outcome it was allowed: the service used
    # and the change from the first answers to the latest.
    closed = practice.locator(".nhsuk-tag", has_text="Closed")
    await reload_until_shown(practice, f"/practice/referrals/{referral_id}", closed)
    main = practice.locator("main")
    await expect(main).to_contain_text("Completed")  # why it closed
    await expect(main).to_contain_text(SERVICE)
    measure = practice.locator("table", has_text="Short Warwick-Edinburgh Mental Wellbeing Scale")
    await expect(measure.locator("tbody tr")).to_contain_text(
        ["Score 15.32 25.03 +9.71 (better)"], use_inner_text=True
    )
    await expect(main).to_contain_text("This is a meaningful improvement.")
    timeline = practice.locator(".socialrx-timeline li")
    await expect(timeline.filter(has_text="Follow-up recorded")).to_have_count(2)
    await expect(timeline.filter(has_text="The person started at a service")).to_have_count(1)
    await expect(practice.get_by_role("button", name="Cancel this referral")).to_have_count(0)
    await check_page(practice, "journey-practice-outcome")
