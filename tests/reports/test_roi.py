"""The return-on-investment report, and service use read the right way round, on the known
service (tests/support/known_data.py): 5 people followed up, GP consultations 15 -> 3 and
A&E attendances 5 -> 1; 14 referrals, 11 of them in January 2026."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from core.settings import ReturnOnInvestmentSettings, Settings
from tests.support.reports import COMMISSIONER, report_api, signed_in_as

JANUARY = {"start": "2026-01-01", "end": "2026-01-31"}


async def get(api: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    response = await api.get(
        f"/reports/{path}", params=params, headers=await signed_in_as(api, COMMISSIONER)
    )
    assert response.status_code == 200, response.text
    return response


async def roi(api: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = (await get(api, "roi", **params)).json()
    return body


def by_item(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["item"]: item for item in report["items"]}


async def test_the_return_matches_a_hand_computed_example_to_the_penny(
    api: httpx.AsyncClient,
) -> None:
    report = await roi(api, internal=True, programme_cost="12345.67", **JANUARY)
    items = by_item(report)
    assert report["people"] == 5 and report["service_use_period_days"] == 91.0
    gp, ae = items["gp_consultations"], items["ae_attendances"]
    assert (gp["contacts_before"], gp["contacts_after"], gp["change_pct"]) == (15, 3, -80.0)
    assert gp["in_words"] == "fell by 80.0% (from 15 to 3)"
    assert (ae["contacts_before"], ae["contacts_after"]) == (5, 1)
    # Default unit costs: GP 49, A&E 282; annualised by 365 / 91.
    # GP: (3 - 15) * 49 * 365 / 91 = -214620 / 91 = -2358.4615...
    # A&E: (1 - 5) * 282 * 365 / 91 = -411720 / 91 = -4524.3956...
    assert (gp["unit_cost"], ae["unit_cost"]) == (49.0, 282.0)
    assert (gp["annual_cost_change"], ae["annual_cost_change"]) == (-2358.46, -4524.40)
    # Outpatient (120) and inpatient (1590) are costed too; nobody used either, so no change.
    assert report["not_costed"] == []
    assert items["outpatient_appointments"]["unit_cost"] == 120.0
    assert items["inpatient_stays"]["annual_cost_change"] == 0.0
    # Avoided: 626340 / 91 = 6882.857142...
    assert report["nhs_cost_avoided"] == 6882.86 and report["annual_cost_change"] == -6882.86
    # 11 referrals in January (whole service); 12345.67 / 11 = 1122.3336...; for the 5
    # people 61728.35 / 11 = 5611.6681...
    assert report["referrals_in_period"] == 11
    assert report["programme_cost_per_referral"] == 1122.33
    assert report["programme_cost_for_people"] == 5611.67
    # 100 * 6882.857142 / 5611.668181 = 122.65...: 123p per pound.
    assert report["roi_pence_per_pound"] == 123.0
    assert report["ci95_low_pence"] <= 123.0 <= report["ci95_high_pence"]
    assert report["not_shown_because"] is None


async def test_the_bootstrap_interval_is_reproducible_from_its_seed(
    api: httpx.AsyncClient,
) -> None:
    ask = {"internal": True, "programme_cost": "5000", **JANUARY}
    first, again = await roi(api, seed=7, **ask), await roi(api, seed=7, **ask)
    interval = (first["ci95_low_pence"], first["ci95_high_pence"])
    assert first["bootstrap_seed"] == 7
    assert interval == (again["ci95_low_pence"], again["ci95_high_pence"])
    assert interval[0] < first["roi_pence_per_pound"] < interval[1]
    # Without a seed, the configured one (14) is used and reported.
    assert (await roi(api, **ask))["bootstrap_seed"] == 14


async def test_the_programme_cost_per_year_is_pro_rated_to_the_period(
    known_service: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = ReturnOnInvestmentSettings(programme_cost_per_year=Decimal("36500"))
    async with report_api(database_url, tmp_path / "var", roi=settings) as api:
        report = await roi(api, internal=True, **JANUARY)
        without_period = await roi(api, internal=True)
    # 36500 * 31 days / 365 = 3100.
    assert report["programme_cost"] == 3100.0
    assert "31 days" in report["programme_cost_from"]
    assert without_period["roi_pence_per_pound"] is None
    assert "start and end" in without_period["not_shown_because"]


async def test_without_a_programme_cost_the_report_says_what_to_give(
    api: httpx.AsyncClient,
) -> None:
    report = await roi(api, internal=True)
    assert report["nhs_cost_avoided"] == 6882.86
    assert report["roi_pence_per_pound"] is None and report["ci95_low_pence"] is None
    assert "programme_cost" in report["not_shown_because"]


async def test_it_is_suppressed_below_the_threshold(
    known_service: Engine, database_url: str, tmp_path: Path
) -> None:
    async with report_api(database_url, tmp_path / "var", small_numbers=6) as api:
        report = await roi(api, programme_cost="5000", **JANUARY)
    # 5 people, under 6: no count, cost or return.
    assert report["people"] is None
    assert report["nhs_cost_avoided"] is None and report["roi_pence_per_pound"] is None
    assert all(i["contacts_before"] is None and i["annual_cost_change"] is None
               for i in report["items"])  # fmt: skip
    assert report["not_shown_because"] == "not shown: too few people"


async def test_a_suppressed_contact_count_keeps_the_costs_back(api: httpx.AsyncClient) -> None:
    # Published (threshold 5): A&E after is 1 and GP after 3, so no costed pair is shown, and
    # nor is any cost that would give a difference away.
    report = await roi(api, programme_cost="5000", **JANUARY)
    assert report["people"] == 5
    assert by_item(report)["gp_consultations"]["contacts_after"] is None
    assert report["nhs_cost_avoided"] is None and report["roi_pence_per_pound"] is None


async def test_it_takes_the_same_filters(api: httpx.AsyncClient) -> None:
    elsewhere = await roi(api, internal=True, practice="A81002", programme_cost="100")
    assert elsewhere["people"] == 0 and elsewhere["roi_pence_per_pound"] is None
    by_need = await roi(api, internal=True, category="sp-money")
    assert by_need["people"] == 0
    arts = await roi(
        api, internal=True, category="sp-arts", organisation="org-millbrook-leisure-trust"
    )
    assert arts["people"] == 5


async def test_the_csv_states_each_figure_and_its_direction(
    known_service: Engine, database_url: str, tmp_path: Path
) -> None:
    async with report_api(database_url, tmp_path / "var", small_numbers=1) as api:
        response = await get(api, "roi.csv", programme_cost="12345.67", **JANUARY)
    assert response.headers["content-type"].startswith("text/csv")
    rows = {(r["figure"], r["item"]): r for r in csv.DictReader(io.StringIO(response.text[1:]))}
    assert rows["nhs_cost_avoided", ""]["value"] == "6882.86"
    assert rows["nhs_cost_avoided", ""]["direction"] == "higher_is_better"
    assert rows["return_on_investment", ""]["value"] == "123.0"
    assert rows["annual_cost_change", "gp_consultations"]["direction"] == "lower_is_better"
    assert rows["contacts_after", "gp_consultations"]["note"] == "fell by 80.0% (from 15 to 3)"
    assert rows["caveat", ""]["note"]  # the caveats travel with the figure


async def test_a_bad_programme_cost_is_a_422_that_names_it(api: httpx.AsyncClient) -> None:
    response = await api.get(
        "/reports/roi",
        params={"programme_cost": "-5"},
        headers=await signed_in_as(api, COMMISSIONER),
    )
    assert response.status_code == 422
    assert "programme_cost" in response.text


@pytest.mark.parametrize("path", ["roi", "roi.csv"])
async def test_only_commissioners_see_it(api: httpx.AsyncClient, path: str) -> None:
    response = await api.get(f"/reports/{path}", headers=await signed_in_as(api, "practice:A81001"))
    assert response.status_code == 404


async def test_the_page_says_contacts_fell_and_shows_the_return(
    known_service: Engine, database_url: str, tmp_path: Path
) -> None:
    async with report_api(database_url, tmp_path / "var", small_numbers=3) as api:
        page = (await get(api, "commissioner.html", programme_cost="12345.67", **JANUARY)).text
    service_use = page[page.index('id="service-use"') : page.index('id="roi"')]
    assert "NHS service use (fewer contacts is better)" in page
    assert "positive is better" not in page
    assert "fell by 80.0% (from 20 to 4)" in service_use  # all contacts
    assert "GP consultations" in service_use
    assert "fell by 80.0% (from 15 to 3)" in service_use
    # A&E after is 1, under 3: its counts are kept back, the direction is not.
    assert 'A&amp;E attendances</td><td class="n">5</td><td>fewer: 0.80 a person' in service_use
    assert "rose" not in service_use
    roi_section = page[page.index('id="roi"') :]
    # The A&E counts kept back keep the costs back too.
    assert "Not shown: not shown: too few people" not in roi_section
    assert "Not shown: too few people" in roi_section
    async with report_api(database_url, tmp_path / "var", small_numbers=1) as api:
        page = (await get(api, "commissioner.html", programme_cost="12345.67", **JANUARY)).text
    roi_section = page[page.index('id="roi"') :]
    assert "£6,882.86" in roi_section and "123p" in roi_section
    assert 'id="chart-roi"><svg' in roi_section
    assert "no control group" in roi_section and "Regression to the mean" in roi_section
    assert "Not costed" not in roi_section


async def test_an_item_the_service_leaves_out_is_named_and_not_costed(
    known_service: Engine, database_url: str, tmp_path: Path
) -> None:
    roi = ReturnOnInvestmentSettings(unit_costs={"inpatient_stays": None, "ae_attendances": 300})
    async with report_api(database_url, tmp_path / "var", small_numbers=1, roi=roi) as api:
        report = await get(api, "roi", internal=True, programme_cost="12345.67", **JANUARY)
        page = (await get(api, "commissioner.html", programme_cost="12345.67", **JANUARY)).text
    items = by_item(report.json())
    assert report.json()["not_costed"] == ["inpatient_stays"]
    assert items["inpatient_stays"]["unit_cost"] is None
    assert items["inpatient_stays"]["annual_cost_change"] is None
    assert items["inpatient_stays"]["unit_cost_source"] == "left out by this service"
    # A&E at the service's 300: (1 - 5) * 300 * 365 / 91 = -4813.19; GP keeps its default.
    assert items["ae_attendances"]["annual_cost_change"] == -4813.19
    assert items["ae_attendances"]["unit_cost_source"] == "set by this service"
    assert items["gp_consultations"]["annual_cost_change"] == -2358.46
    assert report.json()["nhs_cost_avoided"] == 7171.65
    roi_section = page[page.index('id="roi"') :]
    assert "Not costed (no unit cost): inpatient stays" in roi_section


def test_unit_costs_and_the_period_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALRX_REPORTS__ROI__UNIT_COSTS", '{"outpatient_appointments": 150.5}')
    monkeypatch.setenv("SOCIALRX_REPORTS__ROI__SERVICE_USE_PERIOD", "P73D")
    roi = Settings().reports.roi
    assert roi.unit_cost("outpatient_appointments") == Decimal("150.5")
    assert roi.unit_cost("gp_consultations") == Decimal(49)  # the default stays
    assert roi.unit_cost("inpatient_stays") == Decimal(1590)  # the default stays
    monkeypatch.setenv("SOCIALRX_REPORTS__ROI__UNIT_COSTS", '{"inpatient_stays": null}')
    assert Settings().reports.roi.unit_cost("inpatient_stays") is None  # left out
    assert roi.service_use_period == timedelta(days=73)


@pytest.mark.parametrize(
    ("costs", "error"),
    [
        ('{"dentist_visits": 40}', "unknown service-use item"),
        ('{"ae_attendances": -1}', "negative"),
    ],
)
def test_a_bad_unit_cost_setting_says_what_to_fix(
    monkeypatch: pytest.MonkeyPatch, costs: str, error: str
) -> None:
    monkeypatch.setenv("SOCIALRX_REPORTS__ROI__UNIT_COSTS", costs)
    with pytest.raises(ValidationError, match=error):
        Settings()
