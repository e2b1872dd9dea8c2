"""Exports that open safely: names from the directory (which organisations edit) cannot run
as spreadsheet formulas or break the charts."""

import csv
import io

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from catalogue.tables import Organization
from reports.tables import Table, spreadsheet_text
from tests.support.known_data import LEISURE_TRUST
from tests.support.reports import COMMISSIONER, signed_in_as


def rename_organisation(engine: Engine, name: str) -> None:
    with Session(engine) as session:
        organisation = session.get(Organization, LEISURE_TRUST)
        assert organisation is not None
        organisation.name = name
        session.add(organisation)
        session.commit()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(start: str) -> None:
    assert spreadsheet_text(f"{start}1+1") == f"'{start}1+1"


def test_other_text_and_numbers_are_written_as_they_are() -> None:
    table = Table(("name", "count", "change"), frozenset({"count"}), [("Walks = fun", 7, -0.4)])
    rows = list(csv.reader(io.StringIO(table.to_csv())))
    assert rows[1] == ["Walks = fun", "7", "-0.4"]


@pytest.mark.parametrize("table", ["waits", "uptake"])
async def test_an_organisation_named_like_a_formula_is_plain_text_in_the_csv(
    known_service: Engine, api: httpx.AsyncClient, table: str
) -> None:
    formula = '=HYPERLINK("http://evil.example","Leisure")'
    rename_organisation(known_service, formula)
    response = await api.get(f"/reports/{table}.csv", headers=await signed_in_as(api, COMMISSIONER))
    assert response.status_code == 200
    rows = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    names = [row["organisation_name" if table == "waits" else "name"] for row in rows]
    assert "'" + formula in names
    assert formula not in names


async def test_a_dollar_in_an_organisation_name_prints_on_the_commissioner_page(
    known_service: Engine, api: httpx.AsyncClient
) -> None:
    # "$^$" is a mathtext syntax error: matplotlib raised, and the page was a 500.
    rename_organisation(known_service, "Walks $^$ club")
    response = await api.get(
        "/reports/commissioner.html", headers=await signed_in_as(api, COMMISSIONER)
    )
    assert response.status_code == 200
    waits = response.text[response.text.index('id="chart-waits"') :]
    # The label is drawn as written (SVG text, escaped), not as mathematics.
    assert "Walks $^$ club" in waits[: waits.index("</svg>")]
