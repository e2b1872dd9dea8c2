"""Referring someone through the practice's pages: the form filled in as a GP practice would,
and the referrals the database holds for an NHS number."""

from uuid import UUID

from playwright.async_api import Page
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.tables import Person, Referral

NHS_NUMBER = "9434765919"


async def fill_in_the_form(
    page: Page, nhs_number: str = NHS_NUMBER, need: str = "Physical activity"
) -> None:
    """Every answer on ``/practice/refer``; the outcome may come back to the practice in full."""
    await page.get_by_label("NHS number").fill(nhs_number)
    await page.get_by_label("First name").fill("Marigold")
    await page.get_by_label("Last name").fill("Featherstonehaugh")
    await page.get_by_label("Day").fill("14")
    await page.get_by_label("Month").fill("3")
    await page.get_by_label("Year").fill("1948")
    await page.get_by_label("Postcode").fill("mb3 7qx")
    await page.get_by_label("Phone number (optional)").fill("07700 900461")
    await page.get_by_label("Text message").check()
    await page.locator("#contact_consent").check()
    await page.get_by_label("Why are you referring the person?").fill("Rarely leaves the house")
    await page.get_by_label(need).check()
    await page.locator("#consent_given").check()
    await page.get_by_label("Their name and contact details only").check()
    await page.get_by_label("Also the services they used").check()


def referral_ids(engine: Engine, nhs_number: str = NHS_NUMBER) -> list[UUID]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Referral.id)
                .join(Person, col(Person.referral_id) == Referral.id)
                .where(Person.nhs_number == nhs_number)
            ).all()
        )
