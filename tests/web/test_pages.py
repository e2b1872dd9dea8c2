"""Each role's first pages, the layout around them, and what keeps them safe."""

import re
from datetime import datetime, time, timedelta
from uuid import uuid4

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine

from api.web.navigation import NAVIGATION
from api.web.words import LONDON
from domain.enums import OrganisationKind, TaskKind
from tests.support.browser import check_page, sign_in
from tests.support.web_people import PASSWORD, PEOPLE, People
from tests.web.data import a_referral, a_service_referral, a_task

pytestmark = pytest.mark.system

FIRST_PAGES = {
    "practice": ("/practice/referrals", "Your referrals"),
    "link_worker": ("/tasks", "Your tasks"),
    "organisation": ("/organisation/referrals", "Referrals to you"),
    "commissioner": ("/reports", "Reports"),
}


def later_today() -> timedelta:
    """Half-way from now to midnight in England: due today, and not overdue yet."""
    now = datetime.now(LONDON)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), LONDON)
    return (midnight - now) / 2


@pytest.fixture
def some_work(engine: Engine, people: People) -> None:
    """A referral of each practice; tasks overdue, due today and later; a service referral."""
    edith = a_referral(engine, "A81001", "Edith", "Marsh")
    a_referral(engine, "A81002", "Walter", "Finch", link_worker_id=None)
    a_task(engine, edith, TaskKind.FOLLOW_UP, timedelta(days=3))
    a_task(engine, edith, TaskKind.FIRST_CONTACT, -timedelta(hours=2))
    a_task(engine, edith, TaskKind.WHAT_MATTERS_CONVERSATION, later_today())
    a_service_referral(engine, edith, PEOPLE["organisation"].organisation_id)


@pytest.mark.parametrize("role", list(FIRST_PAGES))
async def test_home_sends_each_role_to_its_first_page_with_only_its_navigation(
    page: Page, people: People, some_work: None, role: str
) -> None:
    path, heading = FIRST_PAGES[role]
    await sign_in(page, people[role].username, PASSWORD)
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    navigation = page.get_by_role("navigation", name="Your pages")
    # Only this role's pages, its first page first.
    kind = OrganisationKind.LINK_WORKER_TEAM if role == "link_worker" else OrganisationKind(role)
    role_pages = [item.text for item in NAVIGATION[kind]]
    assert role_pages[0] == heading
    await expect(navigation.get_by_role("link")).to_have_text(role_pages)
    await expect(navigation.get_by_role("link", name=heading)).to_have_attribute(
        "aria-current", "page"
    )
    await expect(page.locator(".nhsuk-header__account")).to_contain_text(people[role].username)
    await check_page(page, f"{role}-first-page")
    # The NHS.UK components' ES module ran (the inline script too, by its nonce).
    await expect(page.locator("body")).to_have_class(re.compile("nhsuk-frontend-supported"))
    # At 320 px nothing runs off the side of the screen.
    await page.set_viewport_size({"width": 320, "height": 640})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await check_page(page, f"{role}-first-page-320px")
    await page.goto("/")
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))


async def test_a_link_workers_tasks_are_tagged_overdue_and_due_today_overdue_first(
    page: Page, people: People, some_work: None
) -> None:
    await sign_in(page, people["link_worker"].username, PASSWORD)
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_contain_text("Contact the person for the first time")
    await expect(rows.nth(0)).to_contain_text("Overdue")
    await expect(rows.nth(0)).to_contain_text("Edith Marsh")
    await expect(rows.nth(1)).to_contain_text("Due today")
    await expect(rows.nth(2)).not_to_contain_text("Overdue")
    await expect(rows.nth(2)).not_to_contain_text("Due today")


async def test_a_practice_sees_its_own_referrals_and_opens_one(
    page: Page, people: People, some_work: None
) -> None:
    await sign_in(page, people["practice"].username, PASSWORD)
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.locator("main")).not_to_contain_text("Walter")
    await page.get_by_role("link", name="Edith Marsh").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Referral for Edith Marsh")
    await expect(page.locator("main")).to_contain_text("Amira Khan")
    await expect(page.locator("main")).to_contain_text("943 476 5919")
    await check_page(page, "practice-referral")


async def test_another_practices_referral_answers_404_as_if_it_did_not_exist(
    page: Page, people: People, engine: Engine
) -> None:
    theirs = a_referral(engine, "A81002", "Walter", "Finch")
    await sign_in(page, people["practice"].username, PASSWORD)
    for missing in (theirs, uuid4()):
        response = await page.goto(f"/practice/referrals/{missing}")
        assert response is not None and response.status == 404
        await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        await expect(page.locator("main")).not_to_contain_text("Walter")
    await check_page(page, "not-found")
    response = await page.goto("/practice/referrals/not-an-id")
    assert response is not None and response.status == 404


async def test_another_roles_page_answers_404(page: Page, people: People) -> None:
    await sign_in(page, people["organisation"].username, PASSWORD)
    for path in ("/tasks", "/practice/referrals", "/reports"):
        response = await page.goto(path)
        assert response is not None and response.status == 404, path


async def test_a_form_posted_without_its_csrf_token_is_refused(page: Page, people: People) -> None:
    await sign_in(page, people["link_worker"].username, PASSWORD)
    no_token: dict[str, str | float | bool] = {}
    wrong_token: dict[str, str | float | bool] = {"csrf_token": "0" * 64}
    for form in (no_token, wrong_token):
        response = await page.request.post("/sign-out", form=form, max_redirects=0)
        assert response.status == 403
        assert "Your form could not be sent" in await response.text()
    # Still signed in: nothing was done.
    await page.goto("/tasks")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your tasks")
    # The same refusal as a person meets it.
    await page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your form could not be sent")
    # Still signed in, and the header says so.
    await expect(page.locator(".nhsuk-header__account")).to_contain_text("amira")
    await check_page(page, "form-expired")
    # A sign-in form without its token is refused too.
    response = await page.request.post(
        "/sign-in", form={"username": "amira", "password": PASSWORD}, max_redirects=0
    )
    assert response.status == 403


async def test_pages_carry_the_security_headers(page: Page, people: People) -> None:
    await sign_in(page, people["commissioner"].username, PASSWORD)
    response = await page.goto("/reports")
    assert response is not None
    headers = await response.all_headers()
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert re.search(r"script-src 'self' 'nonce-[\w-]+'(;|$)", policy)
    assert "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
