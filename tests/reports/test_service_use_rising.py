"""Service use that rises reads as a rise, on the page and in the JSON: five people, each
with 1 GP consultation and no A&E attendance before, 3 and 1 after."""

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from activities.report_facts import change_row
from domain.measures import DEFAULT_THRESHOLDS
from tests.support.known_data import (
    JANUARY,
    load_demo_and_elsewhere,
    referral,
    service_use,
)
from tests.support.reports import COMMISSIONER, load_service, report_api, signed_in_as


def load_rising_service(session: Session) -> None:
    load_demo_and_elsewhere(session)
    for _ in range(5):
        m = referral(session, "A81001", "millbrook-pcn", JANUARY, ",sp-arts,", "lw-amira")
        session.add(change_row(m.referral_id, "follow_up_1", service_use(1, 0),
                               service_use(3, 1), JANUARY, DEFAULT_THRESHOLDS))  # fmt: skip
    session.commit()


@pytest.fixture(scope="module")
def known_service(database_url: str) -> Engine:
    return load_service(database_url, load_rising_service)


async def test_the_page_and_the_json_say_contacts_rose(
    known_service: Engine, database_url: str, tmp_path: Path
) -> None:
    async with report_api(database_url, tmp_path / "var") as api:
        headers = await signed_in_as(api, COMMISSIONER)
        page = (await api.get("/reports/commissioner.html", headers=headers)).text
        use = (await api.get("/reports/outcomes", headers=headers)).json()["service_use"]
        roi = (await api.get("/reports/roi", headers=headers,
                             params={"programme_cost": "1000"})).json()  # fmt: skip
    service_use_table = page[page.index('id="service-use"') : page.index('id="roi"')]
    assert "rose by 300.0% (from 5 to 20)" in service_use_table  # all contacts
    assert "rose by 200.0% (from 5 to 15)" in service_use_table  # GP
    assert "rose (from 0 to 5)" in service_use_table  # A&E: no percentage of nothing
    assert "fell" not in service_use_table
    assert use["direction"] == "lower_is_better" and use["change_pct"] == 300.0
    assert use["in_words"] == "rose by 300.0% (from 5 to 20)"
    # More contacts cost more: a negative cost avoided, and a negative return.
    # GP (15 - 5) * 49 + A&E (5 - 0) * 282 = 1900 a period; x 365 / 91 = 7620.88 a year.
    assert roi["annual_cost_change"] == 7620.88 and roi["nhs_cost_avoided"] == -7620.88
    # 1000 over the 5 referrals: all 5 people; 100 * -7620.88 / 1000 = -762p.
    assert roi["roi_pence_per_pound"] == -762.0
