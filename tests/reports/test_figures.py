"""Headline, funnel and process figures on the known service, worked out by hand, published
(counts under 5 suppressed) and internal."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from reports.small_numbers import Suppression
from tests.support.known_data import LEISURE_TRUST
from tests.support.reports import COMMISSIONER, report_api, signed_in_as


async def get(api: httpx.AsyncClient, report: str, **params: Any) -> Any:
    response = await api.get(
        f"/reports/{report}", params=params, headers=await signed_in_as(api, COMMISSIONER)
    )
    assert response.status_code == 200, response.text
    return response.json()


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in rows}


async def test_funnel_counts_each_stage_with_its_conversion(api: httpx.AsyncClient) -> None:
    stages = by((await get(api, "funnel"))["stages"], "stage")
    assert [s["count"] for s in stages.values()] == [14, 8, 6, 6, 5, 5, 5]
    assert [s["conversion_pct"] for s in stages.values()] == [
        None, 57.1, 75.0, 100.0, 83.3, 100.0, 100.0
    ]  # fmt: skip
    assert stages["completed"]["of_referred_pct"] == 35.7


async def test_small_counts_are_suppressed_and_no_percentage_comes_from_them(
    api: httpx.AsyncClient,
) -> None:
    published = by((await get(api, "funnel", practice="A81002"))["stages"], "stage")
    assert published["referred"]["count"] is None  # 3 people: below 5
    assert published["contacted"]["count"] == 0  # zero is not a small number
    assert all(s["conversion_pct"] is None for s in published.values())
    internal = by((await get(api, "funnel", practice="A81002", internal=True))["stages"], "stage")
    assert internal["referred"]["count"] == 3
    assert internal["contacted"]["conversion_pct"] == 0.0


async def test_headline_positive_change_and_swemwbs_with_confidence_interval(
    api: httpx.AsyncClient,
) -> None:
    published = await get(api, "outcomes")
    assert published["follow_up"] == {"eligible": 5, "followed_up": 5, "followed_up_pct": 100.0}
    positive = published["positive_change"]
    # 4 of 5 improved: 4 is a small number, so neither it nor 80% is published.
    assert positive["people"] == 5
    assert positive["improved_any_area"] is None and positive["improved_any_area_pct"] is None
    swemwbs = published["swemwbs"]
    # Changes 1..5: mean 3, sd sqrt(2.5), se 0.7071, t(4) = 2.776 -> 3 +- 1.963.
    assert swemwbs["people"] == 5 and swemwbs["mean_change"] == 3.0
    assert (swemwbs["ci95_low"], swemwbs["ci95_high"]) == (1.04, 4.96)
    assert swemwbs["meaningful"] is None and swemwbs["meaningful_pct"] is None

    internal = await get(api, "outcomes", internal=True)
    positive = internal["positive_change"]
    assert (positive["improved_any_area"], positive["improved_any_area_pct"]) == (4, 80.0)
    areas = by(positive["areas"], "area")
    assert areas["money"]["improved_pct"] == 80.0
    assert areas["lifestyle"]["improved"] == 2 and areas["lifestyle"]["improved_pct"] == 40.0
    assert areas["feeling_positive"]["improved"] == 0
    assert (internal["swemwbs"]["meaningful"], internal["swemwbs"]["meaningful_pct"]) == (3, 60.0)
    # Nobody had loneliness measured: no figure, rather than a zero.
    assert internal["loneliness"] == {
        "direction": "lower_is_better", "people": 0, "mean_change": None, "ci95_low": None,
        "ci95_high": None, "meaningful": None, "meaningful_pct": None,
        "in_words": "nobody measured",
    }  # fmt: skip


async def test_service_use_change_is_never_worked_out_from_a_suppressed_count(
    api: httpx.AsyncClient,
) -> None:
    published = (await get(api, "outcomes"))["service_use"]
    # 20 contacts before, 4 after. The 4 is a small number: -80% would give it away
    # (20 * (1 - 0.8)), and so would the items' mean changes (5 * (2.4 + 0.8) = 16 fewer).
    assert published["people"] == 5 and published["contacts_before"] == 20
    assert published["contacts_after"] is None and published["change_pct"] is None
    items = by(published["items"], "item")
    assert all(item["mean_change"] is None for item in items.values())
    assert items["gp_consultations"]["people"] == 5
    assert items["gp_consultations"]["improved_pct"] == 100.0  # all 5
    assert items["ae_attendances"]["improved_pct"] is None  # 4: a small number
    assert items["inpatient_stays"]["improved_pct"] == 0.0

    internal = (await get(api, "outcomes", internal=True))["service_use"]
    assert (internal["contacts_before"], internal["contacts_after"]) == (20, 4)
    assert internal["change_pct"] == -80.0
    items = by(internal["items"], "item")
    # Lower is better: a fall in contacts is a positive change.
    gp, ae, outpatient = (items[k] for k in ("gp_consultations", "ae_attendances",
                                            "outpatient_appointments"))  # fmt: skip
    assert (gp["mean_change"], ae["mean_change"], ae["improved_pct"]) == (2.4, 0.8, 80.0)
    assert (outpatient["mean_change"], outpatient["improved_pct"]) == (0.0, 0.0)


async def test_service_use_change_is_published_when_its_counts_are(
    known_service: Engine, database_url: str, tmp_path: Path
) -> None:
    # With the threshold at 3, the 4 contacts after may be shown, and so may all from them.
    async with report_api(database_url, tmp_path / "var", small_numbers=3) as api:
        published = (await get(api, "outcomes"))["service_use"]
    assert (published["contacts_before"], published["contacts_after"]) == (20, 4)
    assert published["change_pct"] == -80.0
    items = by(published["items"], "item")
    assert items["ae_attendances"]["mean_change"] == 0.8
    assert items["ae_attendances"]["improved_pct"] == 80.0


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        (20, 5, -75.0),  # both shown
        (20, 4, None),  # after suppressed
        (4, 20, None),  # before suppressed
        (5, 0, -100.0),  # zero is not a small number
        (0, 5, None),  # nothing before: no percentage of it
        (None, 5, None),  # not shown at all
    ],
)
def test_a_percentage_change_comes_from_shown_counts_only(
    before: int | None, after: int | None, change: float | None
) -> None:
    assert Suppression(5).change(before, after) == change


async def test_closure_reasons(api: httpx.AsyncClient) -> None:
    report = await get(api, "closures")
    reasons = by(report["reasons"], "reason")
    # 4 open: a small number. The 10 closed would give it away (14 referred - 10), so it is
    # hidden too (secondary suppression), and with it every share of it.
    assert report["closed"] is None and report["still_open"] is None
    assert reasons["completed"] == {"reason": "completed", "count": 5, "pct": None}
    assert reasons["unable_to_contact"]["count"] is None
    assert reasons["unable_to_contact"]["pct"] is None
    assert reasons["lost_to_follow_up"] == {"reason": "lost_to_follow_up", "count": 0, "pct": None}
    internal = by((await get(api, "closures", internal=True))["reasons"], "reason")
    assert (internal["completed"]["pct"], internal["lost_to_follow_up"]["pct"]) == (50.0, 0.0)


async def test_waits_are_nearest_rank_median_and_p90(api: httpx.AsyncClient) -> None:
    report = await get(api, "waits")
    # First attempts 1..10 days after referral: ranks 5 and 9.
    assert report["first_contact"] == {"people": 10, "median_days": 5.0, "p90_days": 9.0}
    (trust,) = report["organisation_response"]
    assert trust["organisation_id"] == "org-millbrook-leisure-trust"
    assert trust["organisation_name"] == "Millbrook Leisure Trust"
    assert (trust["people"], trust["median_days"], trust["p90_days"]) == (6, 3.0, 6.0)
    # Fewer than 5 answers: no percentiles at all.
    small = await get(api, "waits", category="sp-money", internal=False)
    assert small["first_contact"] == {"people": 0, "median_days": None, "p90_days": None}


async def test_uptake_by_service_category_and_organisation(api: httpx.AsyncClient) -> None:
    report = await get(api, "uptake")
    expected = {"sent": 6, "started": 5, "uptake_pct": 83.3}
    (walks,) = report["by_service"]
    assert walks["id"] == "svc-health-walks" and walks | expected == walks
    categories = by(report["by_category"], "id")
    assert set(categories) == {"sp-physical-activity", "sp-nature", "sp-social-groups"}
    assert all(row | expected == row for row in categories.values())
    (trust,) = report["by_organisation"]
    assert trust["id"] == "org-millbrook-leisure-trust" and trust | expected == trust


async def test_reports_that_read_service_referrals_take_the_organisation_filter(
    api: httpx.AsyncClient,
) -> None:
    # Found by schemathesis: the filter's subquery on service_referral used to correlate to
    # the report's own and lose its FROM, a 500.
    uptake = await get(api, "uptake", organisation=LEISURE_TRUST)
    (trust,) = uptake["by_organisation"]
    assert (trust["sent"], trust["started"]) == (6, 5)
    assert (await get(api, "uptake", organisation="org-nobody"))["by_organisation"] == []
    waits = await get(api, "waits", organisation=LEISURE_TRUST)
    (answered,) = waits["organisation_response"]
    assert (answered["people"], answered["median_days"]) == (6, 3.0)
    assert (await get(api, "waits", organisation="org-nobody"))["organisation_response"] == []


async def test_volumes_by_practice_and_caseload(api: httpx.AsyncClient) -> None:
    report = await get(api, "volumes")
    practices = by(report["by_practice"], "practice_ods")
    assert practices["A81001"] == {
        "practice_ods": "A81001", "practice_name": "Millbrook Medical Centre",
        "referred": 10, "completed_pct": 50.0,
    }  # fmt: skip
    assert practices["A81002"]["referred"] is None
    assert practices["A81002"]["completed_pct"] is None
    caseload = by(report["caseload"], "link_worker_id")
    assert (caseload["lw-amira"]["open"], caseload["lw-amira"]["total"]) == (0, 10)
    assert caseload["lw-ben"]["open"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-02-30"}, "start"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "end must not be before start"),
        ({"category": "sp arts; drop"}, "category"),
    ],
)
async def test_a_bad_filter_is_a_422_naming_it(
    api: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await api.get(
        "/reports/funnel", params=params, headers=await signed_in_as(api, COMMISSIONER)
    )
    assert response.status_code == 422
    assert field in response.text
