"""Long lists come a page at a time: the JSON routes take limit and offset (a default and a
maximum) and say the total and the next page in headers; the pages show the same rows in the
same order, with the NHS pagination component's previous and next links."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.main import create_app
from api.paging import DEFAULT_LIMIT, MAX_LIMIT
from core.settings import Settings
from domain.enums import ServiceReferralStatus, TaskKind
from tests.support.web_people import PASSWORD, People
from tests.web.data import a_referral, a_service_referral, a_task

S = ServiceReferralStatus


@pytest.fixture
def client(settings: Settings, engine: Engine) -> TestClient:
    return TestClient(create_app(settings, temporal=None), base_url="https://localhost")


def signed_in(client: TestClient, engine: Engine, role: str) -> tuple[dict[str, str], str]:
    """The bearer header (the cookie stays, for the pages) and the account's organisation."""
    account = People(engine)[role]
    token = client.post("/auth/token", data={"username": account.username, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}, account.organisation_id


def service_referrals(engine: Engine, organisation_id: str, statuses: list[S]) -> None:
    referral_id = a_referral(engine, "A81001", "Ada", "Lovelace")
    for number, status in enumerate(statuses):
        a_service_referral(
            engine,
            referral_id,
            organisation_id,
            status,
            sent_ago=timedelta(days=40 - number),
            respond_in=timedelta(days=number % 7, hours=number),
        )


def test_an_organisations_service_referrals_come_a_page_at_a_time_in_inbox_order(
    client: TestClient, engine: Engine
) -> None:
    bearer, organisation = signed_in(client, engine, "organisation")
    statuses = [S.PENDING, S.DECLINED, S.ACCEPTED, S.STARTED, S.AUTO_DECLINED] * 6  # 30
    service_referrals(engine, organisation, statuses)
    path = f"/organisations/{organisation}/service-referrals"

    everything = client.get(path, headers=bearer, params={"limit": MAX_LIMIT})
    assert everything.headers["x-total-count"] == "30"
    assert "link" not in everything.headers
    rows = everything.json()
    assert len(rows) == 30
    # Waiting for an answer first (soonest reply first), then accepted, then the rest.
    waiting = [row["status"] for row in rows]
    assert waiting[:6] == ["pending"] * 6 and waiting[6:12] == ["accepted"] * 6
    replies = [row["respond_by"] for row in rows[:6]]
    assert replies == sorted(replies)
    rest = [row["sent_at"] for row in rows[12:]]
    assert rest == sorted(rest, reverse=True)

    first = client.get(path, headers=bearer, params={"limit": 10, "status": "declined"})
    assert first.headers["x-total-count"] == "6"
    assert [row["status"] for row in first.json()] == ["declined"] * 6
    page = client.get(path, headers=bearer, params={"limit": 12, "offset": 12})
    assert [row["id"] for row in page.json()] == [row["id"] for row in rows[12:24]]
    assert page.headers["link"] == f'<{path}?limit=12&offset=24>; rel="next"'
    assert len(client.get(path, headers=bearer).json()) == min(30, DEFAULT_LIMIT)

    # The page shows the same rows in the same order, 25 at a time, with a next link.
    html = client.get("/organisation/referrals").text
    links = [f"/organisation/service-referrals/{row['id']}" for row in rows]
    positions = [html.index(link) for link in links[:25]]
    assert positions == sorted(positions)
    assert links[25] not in html
    assert 'href="?page=2"' in html
    second = client.get("/organisation/referrals?page=2").text
    assert all(link in second for link in links[25:])
    assert client.get("/organisation/referrals?page=3").status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_a_page_out_of_bounds_is_refused_naming_the_parameter(
    client: TestClient, engine: Engine, params: dict[str, int], field: str
) -> None:
    bearer, organisation = signed_in(client, engine, "organisation")
    for path in (
        f"/organisations/{organisation}/service-referrals",
        f"/organisations/{organisation}/tasks",
    ):
        response = client.get(path, headers=bearer, params=params)
        assert response.status_code == 422, response.text
        assert [problem["field"] for problem in response.json()["detail"]] == [field]


def test_a_link_workers_tasks_come_a_page_at_a_time_and_the_page_counts_them_all(
    client: TestClient, engine: Engine
) -> None:
    bearer, _ = signed_in(client, engine, "link_worker")
    referral_id = a_referral(engine, "A81001", "Grace", "Hopper")
    for hours in range(-3, 27):  # 30 tasks: 3 overdue, the rest due within a day or so
        a_task(engine, referral_id, TaskKind.FIRST_CONTACT, timedelta(hours=hours, minutes=30))
    path = "/link-workers/lw-amira/tasks"
    first = client.get(path, headers=bearer, params={"limit": 20})
    assert first.headers["x-total-count"] == "30"
    assert first.headers["link"] == f'<{path}?limit=20&offset=20>; rel="next"'
    second = client.get(path, headers=bearer, params={"limit": 20, "offset": 20})
    assert "link" not in second.headers
    due = [task["due_at"] for task in first.json() + second.json()]
    assert len(due) == 30 and due == sorted(due)

    page = client.get("/tasks").text
    # Every task counts in the summary, not only those on this page.
    assert "You have 30 open tasks" in page and "<strong>3 overdue</strong>" in page
    assert 'href="/tasks?page=2"' in page
    assert "<strong>3 overdue</strong>" in client.get("/tasks?page=2").text
