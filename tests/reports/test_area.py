"""A commissioner scoped to the practices of their area sees only those practices' figures,
in every report, export, chart and page, and 404 for a practice outside it; an unscoped
commissioner sees every practice. On filter_data's five referrals (R1 R2 at A81001, R3 at
A81002, R4 R5 at X99001)."""

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from accounts.credentials import set_commissioner_practices
from tests.support.filter_data import load_filter_service
from tests.support.reports import COMMISSIONER, load_service, signed_in_as

BODY = COMMISSIONER.partition(":")[2]
INTERNAL = {"internal": "true"}


@pytest.fixture(scope="module")
def known_service(database_url: str) -> Engine:
    return load_service(database_url, load_filter_service)


@pytest.fixture
def area(known_service: Engine) -> Iterator[list[str]]:
    """The commissioner's body scoped to A81001 and A81002; unscoped again afterwards."""
    practices = ["A81001", "A81002"]
    with Session(known_service) as session:
        set_commissioner_practices(session, BODY, practices)
        # Another body's area changes nothing for this one.
        set_commissioner_practices(session, "elsewhere-icb", ["X99001"])
    yield practices
    with Session(known_service) as session:
        set_commissioner_practices(session, BODY, [])
        set_commissioner_practices(session, "elsewhere-icb", [])


async def referred(api: httpx.AsyncClient, headers: dict[str, str], **filters: str) -> int:
    response = await api.get("/reports/funnel", params=INTERNAL | filters, headers=headers)
    assert response.status_code == 200, response.text
    count: int = response.json()["stages"][0]["count"]
    return count


async def test_an_unscoped_commissioner_sees_every_practice(api: httpx.AsyncClient) -> None:
    headers = await signed_in_as(api, COMMISSIONER)
    assert await referred(api, headers) == 5
    assert await referred(api, headers, practice="X99001") == 2


async def test_every_report_counts_only_the_areas_practices(
    api: httpx.AsyncClient, area: list[str]
) -> None:
    headers = await signed_in_as(api, COMMISSIONER)
    assert await referred(api, headers) == 3
    assert await referred(api, headers, practice="A81001") == 2
    # A team or organisation filter cannot reach past the area either.
    assert await referred(api, headers, team="elsewhere-pcn") == 0
    volumes = (await api.get("/reports/volumes", params=INTERNAL, headers=headers)).json()
    assert [row["practice_ods"] for row in volumes["by_practice"]] == area


@pytest.mark.parametrize(
    "path",
    [
        "/reports/funnel",
        "/reports/outcomes",
        "/reports/waits",
        "/reports/uptake",
        "/reports/volumes",
        "/reports/closures",
        "/reports/commissioner.html",
        "/reports/practices.csv",
        "/reports/charts/funnel.svg",
        "/reports",
    ],
)
async def test_a_practice_outside_the_area_is_not_found(
    api: httpx.AsyncClient, area: list[str], path: str
) -> None:
    headers = await signed_in_as(api, COMMISSIONER)
    token = headers["Authorization"].removeprefix("Bearer ")
    # Pages take the session cookie; the JSON routes the bearer token.
    headers |= {"Cookie": f"socialrx_session={token}"}
    outside = await api.get(path, params={"practice": "X99001"}, headers=headers)
    assert outside.status_code == 404, outside.text
    inside = await api.get(path, params={"practice": "A81001"}, headers=headers)
    assert inside.status_code == 200, inside.text
    assert "X99001" not in inside.text


async def test_exports_and_pages_hold_only_the_areas_practices(
    api: httpx.AsyncClient, area: list[str]
) -> None:
    headers = await signed_in_as(api, COMMISSIONER)
    token = headers["Authorization"].removeprefix("Bearer ")
    headers |= {"Cookie": f"socialrx_session={token}"}
    csv = (await api.get("/reports/practices.csv", headers=headers)).text
    assert "A81001" in csv and "X99001" not in csv
    page = (await api.get("/reports", headers=headers)).text
    # The practice list offers the area's practices only.
    assert 'value="A81001"' in page and 'value="X99001"' not in page
