"""CSV for spreadsheets and the printable page: suppressed, commissioners only."""

import csv
import io

import httpx
import pytest

from reports.small_numbers import HIDDEN
from reports.tables import TableName
from tests.support.reports import COMMISSIONER, signed_in_as

HEADERS = {
    TableName.FUNNEL: ["stage", "count", "conversion_pct", "of_referred_pct"],
    TableName.CLOSURES: ["reason", "count", "pct"],
    TableName.OUTCOMES: [
        "measure",
        "item",
        "people",
        "count",
        "pct",
        "mean_change",
        "ci95_low",
        "ci95_high",
        "direction",
        "in_words",
    ],
    TableName.WAITS: [
        "wait",
        "organisation_id",
        "organisation_name",
        "people",
        "median_days",
        "p90_days",
    ],
    TableName.UPTAKE: ["by", "id", "name", "sent", "started", "uptake_pct"],
    TableName.PRACTICES: ["practice_ods", "practice_name", "referred", "completed_pct"],
    TableName.CASELOAD: ["link_worker_id", "link_worker_name", "open", "total"],
}


async def csv_rows(api: httpx.AsyncClient, table: str, **params: str) -> list[dict[str, str]]:
    response = await api.get(
        f"/reports/{table}.csv", params=params, headers=await signed_in_as(api, COMMISSIONER)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="socialrx-{table}.csv"' in response.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert reader.fieldnames == HEADERS[TableName(table)]
    return list(reader)


@pytest.mark.parametrize("table", list(TableName))
async def test_every_report_exports_as_csv_with_its_headers(
    api: httpx.AsyncClient, table: TableName
) -> None:
    assert await csv_rows(api, table.value)


async def test_csv_is_always_suppressed_and_says_so(api: httpx.AsyncClient) -> None:
    funnel = {row["stage"]: row for row in await csv_rows(api, "funnel", internal="true")}
    assert funnel["referred"]["count"] == "14"
    assert funnel["contacted"]["conversion_pct"] == "57.1"
    closures = {row["reason"]: row for row in await csv_rows(api, "closures")}
    assert closures["unable_to_contact"] == {"reason": "unable_to_contact", "count": HIDDEN,
                                             "pct": ""}  # fmt: skip
    outcomes = {(r["measure"], r["item"]): r for r in await csv_rows(api, "outcomes")}
    swemwbs = outcomes["swemwbs", "metric_score"]
    assert (swemwbs["mean_change"], swemwbs["ci95_low"], swemwbs["ci95_high"]) == (
        "3.0", "1.04", "4.96"
    )  # fmt: skip
    assert outcomes["positive_change", "any_area"]["count"] == HIDDEN
    # 4 contacts after, of 20 before: neither the 4 nor the -80% that gives it away.
    contacts = outcomes["service_use", "all_contacts"]
    assert (contacts["people"], contacts["count"], contacts["pct"]) == ("5", HIDDEN, "")
    assert outcomes["service_use", "gp_consultations"]["mean_change"] == ""
    # Each row says which way is better for its measure, and its change in words.
    assert contacts["direction"] == "lower_is_better" and contacts["in_words"].startswith("not")
    assert swemwbs["direction"] == "higher_is_better"
    assert swemwbs["in_words"] == "improved by 3.00 on average"
    assert outcomes["loneliness_ucla3", "total"]["direction"] == "lower_is_better"
    assert outcomes["ons4", "anxiety"]["direction"] == "lower_is_better"
    practices = {row["practice_ods"]: row for row in await csv_rows(api, "practices")}
    assert practices["A81002"]["referred"] == HIDDEN


async def test_csv_of_an_unknown_report_is_a_422(api: httpx.AsyncClient) -> None:
    response = await api.get("/reports/people.csv", headers=await signed_in_as(api, COMMISSIONER))
    assert response.status_code == 422
    assert "table" in response.text


async def test_the_commissioner_page_renders_its_four_charts(api: httpx.AsyncClient) -> None:
    response = await api.get(
        "/reports/commissioner.html", headers=await signed_in_as(api, COMMISSIONER)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for chart in ("funnel", "outcomes", "waits", "uptake"):
        start = page.index(f'id="chart-{chart}"')
        assert page.index("<svg", start) < page.index("</div>", start)
    # Nothing to run and nothing to fetch: the page works offline and prints as it is.
    assert "<script" not in page and 'src="' not in page and 'href="http' not in page
    # Suppressed in print too: 2 unable to contact is a small number, so are 4 improved and
    # so the share of them.
    assert f'unable to contact</td><td class="n">{HIDDEN}</td>' in page
    assert "<b>\u2013</b>of 5 followed up improved in at least one area" in page


async def test_the_page_shows_its_filters(api: httpx.AsyncClient) -> None:
    response = await api.get(
        "/reports/commissioner.html",
        params={"practice": "A81001"},
        headers=await signed_in_as(api, COMMISSIONER),
    )
    assert response.status_code == 200
    assert "practice = A81001" in response.text


@pytest.mark.parametrize(
    "path",
    ["/reports/funnel", "/reports/outcomes", "/reports/funnel.csv", "/reports/commissioner.html"],
)
@pytest.mark.parametrize(
    "actor", ["practice:A81001", "organisation:org-millbrook-leisure-trust", "link_worker:lw-ben"]
)
async def test_only_commissioners_see_reports(
    api: httpx.AsyncClient, path: str, actor: str
) -> None:
    response = await api.get(path, headers=await signed_in_as(api, actor))
    assert response.status_code == 404
    assert (await api.get(path)).status_code == 401


async def test_no_report_holds_patient_identifiable_data(api: httpx.AsyncClient) -> None:
    """Reports are built from the report tables only; nothing links back to a person."""
    for table in TableName:
        text = (
            await api.get(f"/reports/{table}.csv", headers=await signed_in_as(api, COMMISSIONER))
        ).text
        assert "referral_id" not in text
    detail = (await api.get("/reports/funnel", headers=await signed_in_as(api, COMMISSIONER))).text
    assert "nhs" not in detail.lower()
