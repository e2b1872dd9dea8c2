"""Every route, every role, against objects that belong to practice A81001, its link-worker
team, and organisation org-millbrook-leisure-trust.

Each route of the app must have a row in ``MATRIX``: a new route fails
``test_every_route_is_classified`` until someone decides who may call it. Unless a row says
otherwise, a signed-in caller gets 404 (the object is not theirs, so it does not exist for
them) and an anonymous caller 401.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import nhs_number
import pytest
from sqlmodel import Session, select
from starlette.routing import Route
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from catalogue.tables import ServiceAtLocation
from core.db import engine_for
from core.settings import Settings, SignInSettings
from domain.tables import LinkWorker, LinkWorkerTeam, Practice
from tests.support.database import empty_all_tables
from tests.support.driver import NHS_NUMBERS_USED, SWEMWBS_LATER, Driver, person
from tests.support.fhir_resources import contained
from tests.support.system import running_system

ROLES = {
    "practice": "practice:A81001",
    "other_practice": "practice:B82001",
    "link_worker": "link_worker:lw-amira",
    "other_link_worker": "link_worker:lw-other",
    "organisation": "organisation:org-millbrook-leisure-trust",
    "other_organisation": "organisation:org-canal-side-studios",
    "commissioner": "commissioner:millbrook-icb",
}
ANONYMOUS = "anonymous"
EVERYONE = (*ROLES, ANONYMOUS)
STEP = {200, 409}
# The people the two ways of referring refer: NHS numbers the driver's own referrals never
# use, since a person may have only one open referral.
SPARE_NHS_NUMBERS = [
    str(n)
    for n in range(9434765800, 9434766000)
    if nhs_number.is_valid(str(n)) and str(n) not in NHS_NUMBERS_USED
]
PEOPLE = {
    "/referrals": person(nhs_number=SPARE_NHS_NUMBERS[0]),
    "/fhir/ServiceRequest": person(nhs_number=SPARE_NHS_NUMBERS[1]),
}  # allowed: the step runs, or the workflow says it is not legal now


@dataclass
class Row:
    """Who may call one route: ``ok`` roles get one of their statuses, ``forbidden`` ones
    403, anonymous 401 (or ``ok`` if public), everyone else 404."""

    path: str
    ok: dict[str, set[int]]
    forbidden: tuple[str, ...] = ()
    body: dict[str, Any] | None = None
    form: dict[str, str] | None = None

    def expected(self, role: str) -> set[int]:
        if role in self.ok:
            return self.ok[role]
        if role == ANONYMOUS:
            return {401}
        return {403} if role in self.forbidden else {404}


def public(path: str) -> Row:
    return Row(path, {role: {200} for role in EVERYONE})


def signed_in(path: str, status: int = 200, **kw: Any) -> Row:
    return Row(path, {role: {status} for role in ROLES}, **kw)


EVERY_OTHER_ROLE = tuple(ROLES)
MATRIX: dict[tuple[str, str], Row] = {
    # The directory is public information.
    ("GET", "/services"): public("/services"),
    ("GET", "/services/{service_id}"): public("/services/svc-health-walks"),
    ("GET", "/taxonomy_terms"): public("/taxonomy_terms"),
    ("GET", "/taxonomy_terms/{term_id}"): public("/taxonomy_terms/sp-arts"),
    ("GET", "/organizations"): public("/organizations"),
    ("GET", "/organizations/{organization_id}"): public(
        "/organizations/org-millbrook-leisure-trust"
    ),
    ("GET", "/service_at_locations"): public("/service_at_locations"),
    ("GET", "/service_at_locations/{link_id}"): public("/service_at_locations/{sal}"),
    # Probes answer everyone alike; ready is 503 here, where the time-skipping server cannot
    # say whether a worker polls (tests/test_temporal_down.py and referrals/test_ready.py).
    ("GET", "/health/live"): public("/health/live"),
    ("GET", "/health/ready"): Row("/health/ready", {role: {200, 503} for role in EVERYONE}),
    ("GET", "/openapi.json"): public("/openapi.json"),
    ("GET", "/docs"): public("/docs"),
    ("GET", "/docs/oauth2-redirect"): public("/docs/oauth2-redirect"),
    ("GET", "/redoc"): public("/redoc"),
    ("PATCH", "/services/{service_id}/capacity-status"): Row(
        "/services/svc-health-walks/capacity-status",
        {"organisation": {200}},
        forbidden=EVERY_OTHER_ROLE,
        body={"available": 5},
    ),
    # Signing in: a wrong password is refused alike for everyone.
    ("POST", "/auth/token"): Row(
        "/auth/token",
        {role: {401} for role in EVERYONE},
        form={"username": "gp-a81001", "password": "not the password"},
    ),
    ("GET", "/auth/me"): signed_in("/auth/me"),
    # Practices refer, for themselves only.
    ("POST", "/referrals"): Row(
        "/referrals", {"practice": {201}}, forbidden=EVERY_OTHER_ROLE, body=PEOPLE["/referrals"]
    ),
    ("POST", "/fhir/ServiceRequest"): Row(
        "/fhir/ServiceRequest",
        {"practice": {201}},
        forbidden=EVERY_OTHER_ROLE,
        body=contained(PEOPLE["/fhir/ServiceRequest"]),
    ),
    # FHIR reads follow GET /referrals/{id}: the practice that made it and its link workers.
    ("GET", "/fhir/ServiceRequest/{resource_id}"): Row(
        "/fhir/ServiceRequest/{referral}", {"practice": {200}, "link_worker": {200}}
    ),
    ("GET", "/fhir/Task/{resource_id}"): Row(
        "/fhir/Task/{referral}", {"practice": {200}, "link_worker": {200}}
    ),
    # A search answers everyone signed in; it finds only what they may see (checked in
    # test_fhir_search_finds_only_what_the_caller_may_see).
    ("GET", "/fhir/Task"): signed_in("/fhir/Task?based-on=ServiceRequest/{referral}"),
    ("GET", "/referrals/{referral_id}"): Row(
        "/referrals/{referral}", {"practice": {200}, "link_worker": {200}}
    ),
    ("GET", "/link-workers/{link_worker_id}/tasks"): Row(
        "/link-workers/lw-amira/tasks", {"link_worker": {200}}
    ),
    ("GET", "/referrals/{referral_id}/suggestions"): Row(
        "/referrals/{referral}/suggestions", {"link_worker": {200}}, forbidden=("practice",)
    ),
    ("POST", "/referrals/{referral_id}/contact-attempts"): Row(
        "/referrals/{referral}/contact-attempts",
        {"link_worker": STEP},
        forbidden=("practice",),
        body={"method": "phone", "reached": True},
    ),
    ("POST", "/referrals/{referral_id}/assessment"): Row(
        "/referrals/{referral}/assessment",
        {"link_worker": STEP},
        forbidden=("practice",),
        body={"need_codes": ["sp-arts"]},
    ),
    ("POST", "/referrals/{referral_id}/connections"): Row(
        "/referrals/{referral}/connections",
        {"link_worker": STEP},
        forbidden=("practice",),
        body={"service_ids": ["svc-health-walks"]},
    ),
    ("POST", "/referrals/{referral_id}/follow-ups/{checkpoint}"): Row(
        "/referrals/{referral}/follow-ups/1",
        {"link_worker": STEP},
        forbidden=("practice",),
        body={"measures": [SWEMWBS_LATER]},
    ),
    ("POST", "/referrals/{referral_id}/reassign"): Row(
        "/referrals/{referral}/reassign",
        {"link_worker": STEP},
        forbidden=("practice",),
        body={"link_worker_id": "lw-ben"},
    ),
    ("GET", "/organisations/{organisation_id}/service-referrals"): Row(
        "/organisations/org-millbrook-leisure-trust/service-referrals", {"organisation": {200}}
    ),
    ("GET", "/organisations/{organisation_id}/tasks"): Row(
        "/organisations/org-millbrook-leisure-trust/tasks", {"organisation": {200}}
    ),
    ("GET", "/service-referrals/{service_referral_id}"): Row(
        "/service-referrals/{service_referral}", {"organisation": {200}}
    ),
    ("POST", "/service-referrals/{service_referral_id}/response"): Row(
        "/service-referrals/{service_referral}/response",
        {"organisation": STEP},
        body={"accepted": True},
    ),
    ("POST", "/service-referrals/{service_referral_id}/uptake"): Row(
        "/service-referrals/{service_referral}/uptake",
        {"organisation": STEP},
        body={"started": True},
    ),
    ("GET", "/audit"): Row(
        "/audit", {"commissioner": {200}}, forbidden=tuple(set(ROLES) - {"commissioner"})
    ),
    # Reports are for commissioners; to anyone else they do not exist.
    **{
        ("GET", f"/reports/{report}"): Row(f"/reports/{report}", {"commissioner": {200}})
        for report in ("funnel", "closures", "outcomes", "waits", "uptake", "volumes", "roi")
    },
    ("GET", "/reports/roi.csv"): Row("/reports/roi.csv", {"commissioner": {200}}),
    ("GET", "/reports/commissioner.html"): Row(
        "/reports/commissioner.html", {"commissioner": {200}}
    ),
    ("GET", "/reports/{table}.csv"): Row("/reports/outcomes.csv", {"commissioner": {200}}),
    # Steps that end a referral: on a second referral, after the others.
    ("POST", "/referrals/{referral_id}/close"): Row(
        "/referrals/{ending}/close",
        {"link_worker": STEP},
        forbidden=("practice",),
        body={"reason": "declined"},
    ),
    ("POST", "/referrals/{referral_id}/withdraw-consent"): Row(
        "/referrals/{ending}/withdraw-consent",
        {"practice": STEP, "link_worker": STEP},
        body={},
    ),
    ("POST", "/referrals/{referral_id}/cancel"): Row(
        "/referrals/{ending}/cancel",
        {"practice": STEP},
        forbidden=("link_worker",),
        body={},
    ),
    # Data rights: a person's contact details are corrected by whoever may act on the
    # referral; subject access and erasure are for admins (commissioners) alone.
    ("PATCH", "/referrals/{referral_id}/contact-details"): Row(
        "/referrals/{referral}/contact-details",
        {"practice": {200}, "link_worker": {200}},
        body={"phone": "07700 900999"},
    ),
    ("POST", "/admin/people/export"): Row(
        "/admin/people/export", {"commissioner": {200}}, body={"nhs_number": SPARE_NHS_NUMBERS[2]}
    ),
    ("POST", "/admin/people/erase"): Row(
        "/admin/people/erase", {"commissioner": {200}}, body={"nhs_number": SPARE_NHS_NUMBERS[3]}
    ),
    # Last: it ends the caller's sign-in.
    ("POST", "/auth/sign-out"): signed_in("/auth/sign-out"),
}


@dataclass
class World:
    driver: Driver
    ids: dict[str, str] = field(default_factory=dict)
    created: list[UUID] = field(default_factory=list)


@pytest.fixture(scope="module")
async def world(
    time_skipping_env: WorkflowEnvironment,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[World]:
    engine = engine_for(database_url)
    empty_all_tables(engine)
    settings = Settings(
        database_url=database_url,
        var_dir=Path(tmp_path_factory.mktemp("var")),
        # Every role signs in wrongly as gp-a81001 once; that the lock then engages is
        # tests/test_sign_in_guard.py's to check, not this matrix's.
        sign_in=SignInSettings(
            user_failures_before_lock=len(EVERYONE) + 1,
            address_failures_before_lock=len(EVERYONE) + 1,
        ),
    )
    async with running_system(time_skipping_env, engine, settings, False) as driver:
        with Session(engine) as session:
            # Another team, with its own practice and link worker.
            session.add(LinkWorkerTeam(id="other-pcn", name="Other PCN"))
            session.flush()
            session.add(Practice(ods_code="B82001", name="Other Surgery", team_id="other-pcn"))
            session.add(LinkWorker(id="lw-other", name="Other Worker", team_id="other-pcn"))
            session.commit()
            sal = session.exec(
                select(ServiceAtLocation.id).where(
                    ServiceAtLocation.service_id == "svc-health-walks"
                )
            ).first()
        referral = await driver.submit()
        await driver.contact(referral)
        await driver.assess(referral)
        (service_referral,) = await driver.connect(referral, "svc-health-walks")
        ending = await driver.submit()
        yield World(
            driver,
            {
                "referral": str(referral),
                "service_referral": service_referral,
                "ending": str(ending),
                "sal": str(sal),
            },
        )


def app_routes() -> set[tuple[str, str]]:
    """Every (method, path) the app serves: its own routes and every operation it publishes."""
    app = create_app(Settings(database_url="sqlite://"))
    routes = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    for path, operations in app.openapi()["paths"].items():
        routes |= {(method.upper(), path) for method in operations}
    return routes


def test_every_route_is_classified() -> None:
    unclassified = app_routes() - set(MATRIX)
    assert not unclassified, f"add these routes to MATRIX with who may call them: {unclassified}"
    gone = set(MATRIX) - app_routes()
    assert not gone, f"MATRIX names routes the app no longer has: {gone}"


async def test_fhir_search_finds_only_what_the_caller_may_see(world: World) -> None:
    # Before the matrix, whose last route signs everyone out.
    path = f"/fhir/Task?based-on=ServiceRequest/{world.ids['referral']}"
    for role in ROLES:
        headers = await world.driver.headers_for(ROLES[role])
        bundle = (await world.driver.http.get(path, headers=headers)).json()
        assert bundle["resourceType"] == "Bundle"
        assert bundle["total"] == (1 if role in ("practice", "link_worker") else 0), role


async def test_refusals_say_why_and_leak_nothing(world: World) -> None:
    driver = world.driver
    referral = world.ids["referral"]
    anonymous = await driver.http.get(f"/referrals/{referral}")
    assert anonymous.status_code == 401
    assert "/auth/token" in anonymous.json()["detail"]
    assert anonymous.headers["www-authenticate"] == "Bearer"
    # Someone else's referral reads exactly like one that does not exist.
    foreign = await driver.http.get(
        f"/referrals/{referral}", headers=await driver.headers_for(ROLES["other_practice"])
    )
    missing_id = "00000000-0000-4000-8000-000000000000"
    missing = await driver.http.get(
        f"/referrals/{missing_id}", headers=await driver.headers_for(ROLES["other_practice"])
    )
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"].replace(referral, missing_id) == missing.json()["detail"]
    refused = await driver.http.post(
        f"/referrals/{referral}/contact-attempts",
        json={"method": "phone", "reached": False},
        headers=await driver.headers_for(ROLES["practice"]),
    )
    assert refused.status_code == 403
    assert "Only a link worker may record a contact attempt" in refused.json()["detail"]


async def test_every_route_answers_every_role_as_the_rules_say(world: World) -> None:
    driver = world.driver
    wrong: list[str] = []
    for (method, _), row in MATRIX.items():
        path = row.path.format(**world.ids)
        for role in EVERYONE:
            headers = {} if role == ANONYMOUS else await driver.headers_for(ROLES[role])
            response = await driver.http.request(
                method, path, json=row.body, data=row.form, headers=headers
            )
            if response.status_code == 201 and path in PEOPLE:
                driver.submitted[UUID(response.json()["id"])] = PEOPLE[path]
            if response.status_code not in row.expected(role):
                wrong.append(
                    f"{method} {path} as {role}: {response.status_code}, expected "
                    f"{sorted(row.expected(role))}: {response.text[:120]}"
                )
    assert not wrong, "\n".join(wrong)
