"""A commissioner's pages: the reports with filters, charts and downloads; the access log."""

import re
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session

from domain.accounts import AccessLog
from domain.enums import OrganisationKind
from tests.support.browser import check_page, sign_in
from tests.support.known_data import load_known_service
from tests.support.web_people import PASSWORD, People

pytestmark = pytest.mark.system


@pytest.fixture
def known(engine: Engine) -> None:
    with Session(engine) as session:
        load_known_service(session)


async def test_reports_filtered_with_charts_and_csv_downloads(
    page: Page, people: People, known: None
) -> None:
    await sign_in(page, people["commissioner"].username, PASSWORD)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    referred = (
        page.get_by_role("table", name="Referrals reaching each stage").locator("tbody tr").first
    )
    await expect(referred).to_contain_text("14")  # 10 + 3 + 1 referrals
    await check_page(page, "commissioner-reports")

    await page.get_by_label("GP practice", exact=True).select_option("A81001")
    await page.get_by_role("button", name="Show reports").click()
    await expect(page).to_have_url(re.compile(r"practice=A81001"))
    await expect(referred).to_contain_text("10")
    # Every chart is an image that loaded, with its words beside it.
    images = page.locator("main img")
    await expect(images).to_have_count(5)  # funnel, outcomes, waits, uptake, what it saves
    for index in range(5):
        image = images.nth(index)
        assert await image.get_attribute("alt")
        got = await page.request.get(await image.get_attribute("src") or "")
        assert got.status == 200, (got.status, await got.text())
        await image.scroll_into_view_if_needed()
        await page.wait_for_function(
            "image => image.complete && image.naturalWidth > 0", arg=await image.element_handle()
        )

    link = page.get_by_role("link", name="How far people got (CSV spreadsheet)")
    assert "practice=A81001" in (await link.get_attribute("href") or "")
    async with page.expect_download() as waiting:
        await link.click()
    download = await waiting.value
    text = (await download.path()).read_text("utf-8-sig")
    assert text.splitlines()[0].startswith("stage")
    assert "referred,10" in text
    saves = page.get_by_role("table", name="NHS contacts before and after, their cost a year, "
                             "and the return on investment")  # fmt: skip
    await expect(saves).to_contain_text("nhs_cost_avoided")
    roi_csv = page.get_by_role("link", name="What the service saves the NHS (CSV spreadsheet)")
    await expect(roi_csv).to_have_attribute("href", re.compile(r"/reports/roi\.csv\?practice"))

    # Suppressed: practice A81002 sent 3 referrals, below the threshold.
    await page.get_by_label("GP practice", exact=True).select_option("A81002")
    await page.get_by_role("button", name="Show reports").click()
    await expect(referred).to_contain_text("not shown")
    await check_page(page, "commissioner-reports-filtered")

    # A date that does not exist is an error, linked to its field.
    await page.locator("#start-day").fill("31")
    await page.locator("#start-month").fill("2")
    await page.locator("#start-year").fill("2026")
    await page.get_by_role("button", name="Show reports").click()
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "The start date must be a real date"
    )
    await check_page(page, "commissioner-reports-error")


async def test_the_access_log_is_searched_by_user_referral_and_date(
    page: Page, people: People, engine: Engine
) -> None:
    referral_id = uuid4()
    with Session(engine) as session:
        for subject, referral in (("amira", referral_id), ("amira", None), ("ben", None)):
            session.add(
                AccessLog(
                    at=datetime(2026, 3, 2, 10, tzinfo=UTC),
                    subject=subject,
                    organisation_kind=OrganisationKind.LINK_WORKER_TEAM,
                    organisation_id="millbrook-pcn",
                    action="GET /referrals/{referral_id}",
                    referral_id=referral,
                )
            )
        session.commit()
    await sign_in(page, people["commissioner"].username, PASSWORD)
    await (
        page.get_by_role("navigation", name="Your pages")
        .get_by_role("link", name="Access log")
        .click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Access log")
    await page.get_by_label("User name").fill("amira")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("heading", level=2)).to_have_text("2 entries")
    await check_page(page, "commissioner-access-log")

    await page.get_by_label("Referral reference").fill(str(referral_id))
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("heading", level=2)).to_have_text("1 entry")
    await expect(page.locator("tbody")).to_contain_text(str(referral_id))

    await page.get_by_label("User name").fill("")
    await page.get_by_label("Referral reference").fill("")
    await page.locator("#on-day").fill("3")
    await page.locator("#on-month").fill("3")
    await page.locator("#on-year").fill("2026")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("heading", level=2)).to_have_text("0 entries")

    await page.get_by_label("Referral reference").fill("not-a-reference")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Enter the referral's reference"
    )
    await check_page(page, "commissioner-access-log-error")
