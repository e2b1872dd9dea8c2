"""Every report under every filter, on five referrals that each filter splits (see
filter_data.py); figures are internal (unsuppressed) and worked out by hand from its table.

Each case keeps some referrals and drops others, and a check below makes sure that no
expected figure is the unfiltered one: no filter passes a report without changing it.
"""

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.support.filter_data import ADVICE_CENTRE, BENEFITS, load_filter_service
from tests.support.known_data import LEISURE_TRUST, WALKS
from tests.support.reports import COMMISSIONER, load_service, signed_in_as


@pytest.fixture(scope="module")
def known_service(database_url: str) -> Engine:
    """This module's service is filter_data's, not known_data's."""
    return load_service(database_url, load_filter_service)


LEISURE, ADVICE = LEISURE_TRUST, ADVICE_CENTRE
# Filter -> the referrals it keeps (in the comments).
CASES: dict[str, dict[str, str]] = {
    "all": {},  # R1-R5
    "from 1 March": {"start": "2026-03-01"},  # R2 R5: the start day counts
    "to 10 January": {"end": "2026-01-10"},  # R1 R3 R4: the end day counts
    "practice A81001": {"practice": "A81001"},  # R1 R2
    "team millbrook-pcn": {"team": "millbrook-pcn"},  # R1 R2 R3: two practices
    "team elsewhere-pcn": {"team": "elsewhere-pcn"},  # R4 R5
    "organisation leisure trust": {"organisation": LEISURE},  # R1 R3 R4
    "organisation advice centre": {"organisation": ADVICE},  # R2 R3
    "category sp-money": {"category": "sp-money"},  # R2 R3
    "category sp-arts": {"category": "sp-arts"},  # R1 R4 R5
    "January at millbrook-pcn": {
        "start": "2026-01-01", "end": "2026-01-31", "team": "millbrook-pcn"
    },  # R1 R3
    "organisation nobody sent to": {"organisation": "org-millbrook-mens-shed"},  # none
}  # fmt: skip

EXPECTED: dict[str, dict[str, Any]] = {
    # Referred, contacted, assessed, connected, took up, followed up, completed.
    "funnel": {
        "all": (5, 5, 4, 4, 4, 4, 3),
        "from 1 March": (2, 2, 1, 1, 1, 1, 1),
        "to 10 January": (3, 3, 3, 3, 3, 3, 2),
        "practice A81001": (2, 2, 2, 2, 2, 2, 2),
        "team millbrook-pcn": (3, 3, 3, 3, 3, 3, 2),
        "team elsewhere-pcn": (2, 2, 1, 1, 1, 1, 1),
        "organisation leisure trust": (3, 3, 3, 3, 3, 3, 2),
        "organisation advice centre": (2, 2, 2, 2, 2, 2, 1),
        "category sp-money": (2, 2, 2, 2, 2, 2, 1),
        "category sp-arts": (3, 3, 2, 2, 2, 2, 2),
        "January at millbrook-pcn": (2, 2, 2, 2, 2, 2, 1),
        "organisation nobody sent to": (0, 0, 0, 0, 0, 0, 0),
    },
    # Closed, still open, completed, declined.
    "closures": {
        "all": (4, 1, 3, 1),
        "from 1 March": (2, 0, 1, 1),
        "to 10 January": (2, 1, 2, 0),
        "practice A81001": (2, 0, 2, 0),
        "team millbrook-pcn": (2, 1, 2, 0),
        "team elsewhere-pcn": (2, 0, 1, 1),
        "organisation leisure trust": (2, 1, 2, 0),
        "organisation advice centre": (1, 1, 1, 0),
        "category sp-money": (1, 1, 1, 0),
        "category sp-arts": (3, 0, 2, 1),
        "January at millbrook-pcn": (1, 1, 1, 0),
        "organisation nobody sent to": (0, 0, 0, 0),
    },
    # Eligible, followed up; SWEMWBS people and mean change (of +1, +2, +4, +8).
    "outcomes": {
        "all": (4, 4, 4, 3.75),
        "from 1 March": (1, 1, 1, 2.0),
        "to 10 January": (3, 3, 3, 4.33),
        "practice A81001": (2, 2, 2, 1.5),
        "team millbrook-pcn": (3, 3, 3, 2.33),
        "team elsewhere-pcn": (1, 1, 1, 8.0),
        "organisation leisure trust": (3, 3, 3, 4.33),
        "organisation advice centre": (2, 2, 2, 3.0),
        "category sp-money": (2, 2, 2, 3.0),
        "category sp-arts": (2, 2, 2, 4.5),
        "January at millbrook-pcn": (2, 2, 2, 2.5),
        "organisation nobody sent to": (0, 0, 0, None),
    },
    # First contact (people, nearest-rank median of 1, 2, 4, 8, 16 days); answers per
    # organisation (walks 1, 4, 5 days; benefits 2, 3 days), with R3's at the other
    # organisation left out when filtering by one.
    "waits": {
        "all": (5, 4.0, {LEISURE: (3, 4.0), ADVICE: (2, 2.0)}),
        "from 1 March": (2, 2.0, {ADVICE: (1, 2.0)}),
        "to 10 January": (3, 4.0, {LEISURE: (3, 4.0), ADVICE: (1, 3.0)}),
        "practice A81001": (2, 1.0, {LEISURE: (1, 1.0), ADVICE: (1, 2.0)}),
        "team millbrook-pcn": (3, 2.0, {LEISURE: (2, 1.0), ADVICE: (2, 2.0)}),
        "team elsewhere-pcn": (2, 8.0, {LEISURE: (1, 5.0)}),
        "organisation leisure trust": (3, 4.0, {LEISURE: (3, 4.0)}),
        "organisation advice centre": (2, 2.0, {ADVICE: (2, 2.0)}),
        "category sp-money": (2, 2.0, {LEISURE: (1, 4.0), ADVICE: (2, 2.0)}),
        "category sp-arts": (3, 8.0, {LEISURE: (2, 1.0)}),
        "January at millbrook-pcn": (2, 1.0, {LEISURE: (2, 1.0), ADVICE: (1, 3.0)}),
        "organisation nobody sent to": (0, None, {}),
    },
    # (Sent, started) per organisation. A category is a need of the referral, so R3's walk
    # stays in for sp-money; an organisation is where the service referral went.
    "uptake": {
        "all": {LEISURE: (3, 2), ADVICE: (2, 2)},
        "from 1 March": {ADVICE: (1, 1)},
        "to 10 January": {LEISURE: (3, 2), ADVICE: (1, 1)},
        "practice A81001": {LEISURE: (1, 1), ADVICE: (1, 1)},
        "team millbrook-pcn": {LEISURE: (2, 1), ADVICE: (2, 2)},
        "team elsewhere-pcn": {LEISURE: (1, 1)},
        "organisation leisure trust": {LEISURE: (3, 2)},
        "organisation advice centre": {ADVICE: (2, 2)},
        "category sp-money": {LEISURE: (1, 0), ADVICE: (2, 2)},
        "category sp-arts": {LEISURE: (2, 2)},
        "January at millbrook-pcn": {LEISURE: (2, 1), ADVICE: (1, 1)},
        "organisation nobody sent to": {},
    },
    # Referred per practice; referrals held per link worker.
    "volumes": {
        "all": (
            {"A81001": 2, "A81002": 1, "X99001": 2},
            {"lw-amira": 2, "lw-ben": 1, "lw-elsewhere": 2},
        ),
        "from 1 March": ({"A81001": 1, "X99001": 1}, {"lw-amira": 1, "lw-elsewhere": 1}),
        "to 10 January": (
            {"A81001": 1, "A81002": 1, "X99001": 1},
            {"lw-amira": 1, "lw-ben": 1, "lw-elsewhere": 1},
        ),
        "practice A81001": ({"A81001": 2}, {"lw-amira": 2}),
        "team millbrook-pcn": ({"A81001": 2, "A81002": 1}, {"lw-amira": 2, "lw-ben": 1}),
        "team elsewhere-pcn": ({"X99001": 2}, {"lw-elsewhere": 2}),
        "organisation leisure trust": (
            {"A81001": 1, "A81002": 1, "X99001": 1},
            {"lw-amira": 1, "lw-ben": 1, "lw-elsewhere": 1},
        ),
        "organisation advice centre": ({"A81001": 1, "A81002": 1}, {"lw-amira": 1, "lw-ben": 1}),
        "category sp-money": ({"A81001": 1, "A81002": 1}, {"lw-amira": 1, "lw-ben": 1}),
        "category sp-arts": ({"A81001": 1, "X99001": 2}, {"lw-amira": 1, "lw-elsewhere": 2}),
        "January at millbrook-pcn": ({"A81001": 1, "A81002": 1}, {"lw-amira": 1, "lw-ben": 1}),
        "organisation nobody sent to": ({}, {}),
    },
}
# Each service here is its organisation's only one; svc-health-walks is in three
# categories, svc-benefits-advice in sp-money alone.
ORGANISATION_OF = {WALKS: LEISURE, BENEFITS: ADVICE}
CATEGORIES_OF = {
    LEISURE: ("sp-physical-activity", "sp-nature", "sp-social-groups"),
    ADVICE: ("sp-money",),
}


def figures(report: str, body: dict[str, Any]) -> Any:
    """The figures of ``report`` that EXPECTED gives."""
    if report == "funnel":
        return tuple(stage["count"] for stage in body["stages"])
    if report == "closures":
        reasons = {row["reason"]: row["count"] for row in body["reasons"]}
        return body["closed"], body["still_open"], reasons["completed"], reasons["declined"]
    if report == "outcomes":
        coverage, swemwbs = body["follow_up"], body["swemwbs"]
        return (coverage["eligible"], coverage["followed_up"], swemwbs["people"],
                swemwbs["mean_change"])  # fmt: skip
    if report == "waits":
        first = body["first_contact"]
        answers = {row["organisation_id"]: (row["people"], row["median_days"])
                   for row in body["organisation_response"]}  # fmt: skip
        return first["people"], first["median_days"], answers
    if report == "uptake":
        return {row["id"]: (row["sent"], row["started"]) for row in body["by_organisation"]}
    assert report == "volumes"
    return (
        {row["practice_ods"]: row["referred"] for row in body["by_practice"]},
        {row["link_worker_id"]: row["total"] for row in body["caseload"]},
    )


def test_every_case_drops_something_from_every_report() -> None:
    for report, expected in EXPECTED.items():
        assert set(expected) == set(CASES), report
        for case, figure in expected.items():
            assert case == "all" or figure != expected["all"], (report, case)


@pytest.mark.parametrize("case", list(CASES))
async def test_every_report_takes_every_filter(api: httpx.AsyncClient, case: str) -> None:
    headers = await signed_in_as(api, COMMISSIONER)
    params = {**CASES[case], "internal": "true"}
    for report, expected in EXPECTED.items():
        response = await api.get(f"/reports/{report}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert figures(report, body) == expected[case], report
        if report == "uptake":
            # By service and by category, the same service referrals as by organisation.
            by_organisation = expected[case]
            services = {ORGANISATION_OF[row["id"]]: (row["sent"], row["started"])
                        for row in body["by_service"]}  # fmt: skip
            assert services == by_organisation
            categories = {row["id"]: (row["sent"], row["started"]) for row in body["by_category"]}
            assert categories == {
                category: figure
                for organisation, figure in by_organisation.items()
                for category in CATEGORIES_OF[organisation]
            }
