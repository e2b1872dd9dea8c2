"""Signing in and out in a real browser, and the sign-in form's error states."""

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine

from tests.support.browser import check_page, sign_in
from tests.support.web_people import PASSWORD, People
from tests.web.data import a_referral

pytestmark = pytest.mark.system


async def test_the_session_cookie_is_httponly_samesite_strict_and_secure(
    page: Page, people: People
) -> None:
    await sign_in(page, people["link_worker"].username, PASSWORD)
    cookies = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    session = cookies["socialrx_session"]
    assert (session["httpOnly"], session["secure"], session["sameSite"]) == (True, True, "Strict")


async def test_a_wrong_password_shows_the_error_summary_focused_and_linked_to_the_field(
    page: Page, people: People
) -> None:
    await sign_in(page, people["practice"].username, "not the password")
    summary = page.locator(".nhsuk-error-summary")
    await expect(summary).to_contain_text("There is a problem")
    await expect(summary).to_contain_text("Enter a correct user name and password")
    await expect(summary).to_be_focused()
    await expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    # The user name is kept; the password is not sent back.
    await expect(page.get_by_label("User name")).to_have_value(people["practice"].username)
    await expect(page.get_by_label("Password", exact=True)).to_have_value("")
    await check_page(page, "sign-in-wrong-password")
    await summary.get_by_role("link").click()
    await expect(page.get_by_label("User name")).to_be_focused()
    assert "socialrx_session" not in {c["name"] for c in await page.context.cookies()}


async def test_empty_fields_are_each_named_in_the_summary(page: Page, people: People) -> None:
    await page.goto("/sign-in")
    await page.get_by_role("button", name="Sign in").click()
    links = page.locator(".nhsuk-error-summary a")
    await expect(links).to_have_text(["Enter your user name", "Enter your password"])
    assert [await link.get_attribute("href") for link in await links.all()] == [
        "#username",
        "#password",
    ]
    await expect(page.locator("#username-error")).to_contain_text("Enter your user name")
    await check_page(page, "sign-in-empty")


async def test_a_deep_link_returns_there_after_signing_in(
    page: Page, people: People, engine: Engine
) -> None:
    referral_id = a_referral(engine, "A81001", "Edith", "Marsh")
    deep_link = f"/practice/referrals/{referral_id}"
    await page.goto(deep_link)
    assert page.url.endswith(f"/sign-in?next=%2Fpractice%2Freferrals%2F{referral_id}")
    await check_page(page, "sign-in")
    await page.get_by_label("User name").fill(people["practice"].username)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(re.escape(deep_link) + "$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Referral for Edith Marsh")


@pytest.mark.parametrize(
    "next_path", ["https://example.com/", "//example.com/", "/\\example.com", "javascript:x"]
)
async def test_sign_in_never_sends_anyone_to_another_site(
    page: Page, people: People, next_path: str
) -> None:
    await page.goto(f"/sign-in?next={next_path}")
    await page.get_by_label("User name").fill(people["practice"].username)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"^http://localhost:\d+/practice/referrals$"))


async def test_signing_out_ends_the_session(page: Page, people: People) -> None:
    await sign_in(page, people["link_worker"].username, PASSWORD)
    old_cookie = {c["name"]: c["value"] for c in await page.context.cookies()}["socialrx_session"]
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_text("You have signed out.")).to_be_visible()
    await check_page(page, "signed-out")
    await page.goto("/tasks")
    assert "/sign-in?next=%2Ftasks" in page.url
    # The old session is over on the server, not only forgotten by the browser.
    response = await page.request.get("/auth/me", headers={"Authorization": f"Bearer {old_cookie}"})
    assert response.status == 401


async def test_the_sign_in_form_works_by_keyboard_alone(page: Page, people: People) -> None:
    await page.goto("/sign-in")
    focused: list[str] = []
    for _ in range(10):
        await page.keyboard.press("Tab")
        focused.append(
            await page.evaluate(
                "document.activeElement.id || document.activeElement.textContent.trim()"
            )
        )
        if focused[-1] == "username":
            break
    assert focused[0] == "Skip to main content", focused
    assert focused[-1] == "username", focused
    await page.keyboard.type(people["organisation"].username)
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "password"
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/organisation/referrals$"))
