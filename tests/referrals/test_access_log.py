"""Every read and write of patient data lands in the access log, and commissioners can query it."""

from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from api.main import create_app
from core.settings import Settings
from domain.accounts import AccessLog, AccessOutcome
from tests.support.driver import LINK_WORKER, OTHER_PRACTICE, PRACTICE, Driver

ORGANISATION = "organisation:org-millbrook-leisure-trust"
COMMISSIONER = "commissioner:millbrook-icb"


def logged(
    driver: Driver, referral_id: UUID, outcome: AccessOutcome = AccessOutcome.ALLOWED
) -> list[tuple[str, str]]:
    """The allowed accesses to the referral (or the refused ones, by ``outcome``)."""
    with Session(driver.engine) as session:
        rows = session.exec(
            select(AccessLog)
            .where(AccessLog.referral_id == referral_id, AccessLog.outcome == outcome)
            .order_by(col(AccessLog.id))
        ).all()
        return [(row.subject, row.action) for row in rows]


async def audit(driver: Driver, expect: int = 200, **params: Any) -> Any:
    response = await driver.http.get(
        "/audit", params=params, headers=await driver.headers_for(COMMISSIONER)
    )
    assert response.status_code == expect, response.text
    return response.json()


async def test_reads_and_writes_of_a_referral_are_logged_with_who_and_what(
    driver: Driver,
) -> None:
    referral_id = await driver.submit()  # its wait reads the referral as the link worker
    assert ("practice-A81001", "POST /referrals") in logged(driver, referral_id)
    worker = (await driver.detail(referral_id))["link_worker_id"]
    before = len(logged(driver, referral_id))

    await driver.get(f"/link-workers/{worker}/tasks")  # the first-contact task
    await driver.get(f"/referrals/{referral_id}", actor=PRACTICE)
    await driver.contact(referral_id)
    await driver.assess(referral_id)
    await driver.get(f"/referrals/{referral_id}/suggestions")
    await driver.connect(referral_id, "svc-health-walks")
    await driver.get("/organisations/org-millbrook-leisure-trust/service-referrals", ORGANISATION)
    await driver.get("/organisations/org-millbrook-leisure-trust/tasks", ORGANISATION)

    assert logged(driver, referral_id)[before:] == [
        ("link_worker-lw-amira", "GET /link-workers/{link_worker_id}/tasks"),
        ("practice-A81001", "GET /referrals/{referral_id}"),
        ("link_worker-lw-amira", "POST /referrals/{referral_id}/contact-attempts"),
        ("link_worker-lw-amira", "POST /referrals/{referral_id}/assessment"),
        ("link_worker-lw-amira", "GET /referrals/{referral_id}/suggestions"),
        ("link_worker-lw-amira", "POST /referrals/{referral_id}/connections"),
        (
            "organisation-org-millbrook-leisure-trust",
            "GET /organisations/{organisation_id}/service-referrals",
        ),
        ("organisation-org-millbrook-leisure-trust", "GET /organisations/{organisation_id}/tasks"),
    ]
    with Session(driver.engine) as session:
        row = session.exec(
            select(AccessLog).where(AccessLog.subject == "organisation-org-millbrook-leisure-trust")
        ).first()
        assert row is not None
        assert (row.organisation_kind, row.organisation_id) == (
            "organisation",
            "org-millbrook-leisure-trust",
        )


async def test_fhir_reads_and_the_organisations_view_are_logged(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    await driver.assess(referral_id)
    (walks,) = await driver.connect(referral_id, "svc-health-walks")
    before = len(logged(driver, referral_id))

    await driver.get(f"/fhir/ServiceRequest/{referral_id}", actor=PRACTICE)
    await driver.get(f"/fhir/Task/{referral_id}", actor=PRACTICE)
    await driver.get(f"/fhir/Task?based-on=ServiceRequest/{referral_id}", actor=PRACTICE)
    await driver.get(f"/fhir/Task/{referral_id}", actor=LINK_WORKER)
    await driver.get(f"/service-referrals/{walks}", actor=ORGANISATION)

    assert logged(driver, referral_id)[before:] == [
        ("practice-A81001", "GET /fhir/ServiceRequest/{resource_id}"),
        ("practice-A81001", "GET /fhir/Task/{resource_id}"),
        ("practice-A81001", "GET /fhir/Task"),
        ("link_worker-lw-amira", "GET /fhir/Task/{resource_id}"),
        (
            "organisation-org-millbrook-leisure-trust",
            "GET /service-referrals/{service_referral_id}",
        ),
    ]

    # Another practice finds nothing, and its search is logged as refused.
    found = await driver.get(
        f"/fhir/Task?based-on=ServiceRequest/{referral_id}", actor=OTHER_PRACTICE
    )
    assert found["total"] == 0
    await driver.get(f"/fhir/Task/{referral_id}", actor=OTHER_PRACTICE, expect=404)
    await driver.get(f"/service-referrals/{walks}", actor=PRACTICE, expect=404)
    assert len(logged(driver, referral_id)) == before + 5
    with Session(driver.engine) as session:
        searches = session.exec(
            select(AccessLog).where(AccessLog.subject == "practice-A81002")
        ).all()
        assert [(row.action, row.referral_id, row.outcome) for row in searches] == [
            ("GET /fhir/Task", referral_id, AccessOutcome.NOT_FOUND),
            ("GET /fhir/Task/{resource_id}", referral_id, AccessOutcome.NOT_FOUND),
        ]
    assert logged(driver, referral_id, AccessOutcome.NOT_FOUND) == [
        ("practice-A81002", "GET /fhir/Task"),
        ("practice-A81002", "GET /fhir/Task/{resource_id}"),
        ("practice-A81001", "GET /service-referrals/{service_referral_id}"),
    ]


async def test_refused_callers_leave_no_read_behind_but_their_attempt(driver: Driver) -> None:
    referral_id = await driver.submit()
    before = logged(driver, referral_id)
    await driver.get(f"/referrals/{referral_id}", actor=ORGANISATION, expect=404)
    await driver.get(f"/referrals/{referral_id}", actor=COMMISSIONER, expect=404)
    assert logged(driver, referral_id) == before
    assert logged(driver, referral_id, AccessOutcome.NOT_FOUND) == [
        ("organisation-org-millbrook-leisure-trust", "GET /referrals/{referral_id}"),
        ("commissioner-millbrook-icb", "GET /referrals/{referral_id}"),
    ]


async def test_commissioners_query_the_log_by_referral_subject_and_time(driver: Driver) -> None:
    first = await driver.submit()
    second = await driver.submit()
    for _ in range(3):
        await driver.get(f"/referrals/{first}", actor=PRACTICE)

    everything = await audit(driver, referral_id=str(first), per_page=500)
    assert everything["total_items"] == len(everything["items"]) == len(logged(driver, first))
    assert {item["referral_id"] for item in everything["items"]} == {str(first)}
    times = [item["at"] for item in everything["items"]]
    assert times == sorted(times, reverse=True), "newest first"

    pages = [
        await audit(driver, referral_id=str(first), per_page=2, page=page)
        for page in range(1, everything["total_items"] // 2 + 2)
    ]
    paged = [item["id"] for page in pages for item in page["items"]]
    assert paged == [item["id"] for item in everything["items"]]

    practice_reads = await audit(driver, subject="practice-A81001", referral_id=str(first))
    assert [item["action"] for item in practice_reads["items"]] == [
        "GET /referrals/{referral_id}"
    ] * 3 + ["POST /referrals"]
    assert (await audit(driver, referral_id=str(second)))["total_items"] >= 2
    assert (await audit(driver, since="2999-01-01T00:00:00Z"))["items"] == []
    latest = everything["items"][0]["at"]
    since = await audit(driver, since=latest, referral_id=str(first))
    assert [item["at"] for item in since["items"]] == [latest]


async def test_only_commissioners_read_the_log_and_nothing_changes_it(
    driver: Driver, settings: Settings
) -> None:
    for actor in (PRACTICE, LINK_WORKER, ORGANISATION):
        refused = await driver.get("/audit", actor=actor, expect=403)
        assert "Only a commissioner may read the access log" in refused["detail"]
    assert (await driver.http.get("/audit")).status_code == 401
    await audit(driver, expect=422, per_page=0)
    await audit(driver, expect=422, since="yesterday")
    # Append-only: no route of the app updates or deletes it.
    paths = create_app(settings).openapi()["paths"]
    assert set(paths["/audit"]) == {"get"}
    assert not [path for path in paths if "audit" in path and path != "/audit"]


async def test_a_refused_step_is_logged_as_forbidden_after_the_decision(driver: Driver) -> None:
    referral_id = await driver.submit()
    before = logged(driver, referral_id)

    await driver.contact(referral_id, actor=PRACTICE, expect=403)

    assert logged(driver, referral_id) == before, "no allowed access is recorded"
    assert logged(driver, referral_id, AccessOutcome.FORBIDDEN) == [
        ("practice-A81001", "POST /referrals/{referral_id}/contact-attempts")
    ]
    # Commissioners see the decision in the log.
    items = (await audit(driver, referral_id=str(referral_id), per_page=500))["items"]
    assert items[0]["action"] == "POST /referrals/{referral_id}/contact-attempts"
    assert items[0]["outcome"] == "forbidden"
    assert {item["outcome"] for item in items[1:]} == {"allowed"}


async def test_reading_the_log_and_the_internal_figures_is_logged(driver: Driver) -> None:
    commissioner = await driver.headers_for(COMMISSIONER)
    await audit(driver)
    published = await driver.http.get("/reports/funnel", headers=commissioner)
    internal = await driver.http.get("/reports/funnel?internal=true", headers=commissioner)
    assert published.status_code == internal.status_code == 200

    with Session(driver.engine) as session:
        rows = session.exec(
            select(AccessLog)
            .where(AccessLog.subject == "commissioner-millbrook-icb")
            .order_by(col(AccessLog.id))
        ).all()
    assert [(row.action, row.referral_id, row.outcome) for row in rows] == [
        ("GET /audit", None, AccessOutcome.ALLOWED),
        ("GET /reports/funnel", None, AccessOutcome.ALLOWED),  # internal only
    ]


async def test_the_database_itself_refuses_to_change_the_log(driver: Driver) -> None:
    """On both databases: PostgreSQL's trigger and grants, SQLite's triggers."""
    referral_id = await driver.submit()
    for statement in ("UPDATE access_log SET subject = 'someone else'", "DELETE FROM access_log"):
        with driver.engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement))
    assert logged(driver, referral_id)
