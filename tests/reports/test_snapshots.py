"""Snapshots of the printable page (reports/snapshots.py): served again while no step was
applied and they are young, computed again otherwise; never shared between inputs or areas;
refreshed by the worker's schedule. On the known service (tests/support/known_data.py):
14 referrals, 10 at practice A81001, 3 at A81002 and 1 at X99001."""

import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, update
from sqlmodel import Session, col
from temporalio.testing import WorkflowEnvironment

from accounts.credentials import set_commissioner_practices
from activities.read_model import ReadModelActivities
from core.settings import ReportSettings, ReturnOnInvestmentSettings
from domain.enums import (
    REPORT_SNAPSHOT_SCHEDULE,
    REPORT_SNAPSHOT_WORKFLOW,
    ActorKind,
    ProjectionAction,
    ReferralStatus,
)
from domain.messages import Actor, Projection
from domain.report_tables import ReferralMilestone, ReportSnapshot
from domain.tables import AppliedStep, utcnow
from reports.filters import ReportFilter
from reports.page import page_reports, render_page
from reports.roi import RoiInputs
from reports.small_numbers import Suppression
from reports.snapshots import (
    RefreshResult,
    SnapshotInputs,
    fresh_snapshot,
    refresh_snapshots,
)
from socialrx.worker import build_worker, schedule_report_snapshots
from tests.support.known_data import MARCH, load_known_service, referral
from tests.support.reports import COMMISSIONER, add_accounts, report_api, signed_in_as

ALL = Suppression(1)  # suppresses nothing: the counts below are the known service's own
ROI = RoiInputs(settings=ReturnOnInvestmentSettings())
HOUR = timedelta(hours=1)
KNOWN_REFERRALS = 14


@pytest.fixture
def known(engine: Engine) -> Engine:
    with Session(engine) as session:
        load_known_service(session)
        add_accounts(session)
    return engine


def referred(engine: Engine, max_age: timedelta = HOUR, **filters: str) -> int:
    """People referred on the page served now (from its snapshot if fresh)."""
    with Session(engine) as session:
        snapshot = fresh_snapshot(session, ReportFilter(**filters), ALL, ROI, max_age)
    count = snapshot.reports.funnel.stages[0].count
    assert count is not None
    return count


def computed_at(engine: Engine) -> list[datetime]:
    with Session(engine) as session:
        return list(session.execute(select(col(ReportSnapshot.computed_at))).scalars())


def add_referral(engine: Engine, *, applied: bool) -> None:
    """A new referral in the report tables; ``applied``: with the applied_step row its
    projection writes in the same transaction (without it, as a bulk load would)."""
    with Session(engine) as session:
        milestone = referral(session, "A81002", "millbrook-pcn", MARCH, ",sp-money,", "lw-ben")
        if applied:
            session.add(AppliedStep(referral_id=milestone.referral_id, step_key="intake"))
        session.commit()


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL run on ``engine`` meanwhile."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_snapshot_is_served_while_no_step_is_applied_and_a_new_step_invalidates_it(
    known: Engine,
) -> None:
    assert referred(known) == KNOWN_REFERRALS
    first = computed_at(known)
    # A referral written without a step applied: the snapshot cannot see it, and is served.
    add_referral(known, applied=False)
    with statements(known) as seen:
        assert referred(known) == KNOWN_REFERRALS
    assert computed_at(known) == first
    assert seen and not [sql for sql in seen if "referral_milestone" in sql], (
        "a fresh snapshot runs no report query"
    )
    # A step applied (a projection): the next page is computed again and sees both.
    add_referral(known, applied=True)
    assert referred(known) == KNOWN_REFERRALS + 2
    assert computed_at(known)[0] > first[0]


def stages(engine: Engine, practice: str) -> dict[str, int | None]:
    with Session(engine) as session:
        snapshot = fresh_snapshot(session, ReportFilter(practice=practice), ALL, ROI, HOUR)
    return {stage.stage: stage.count for stage in snapshot.reports.funnel.stages}


def test_a_step_applied_by_the_real_projection_invalidates_the_snapshot(known: Engine) -> None:
    before = stages(known, "A81002")
    with Session(known) as session:
        open_referral = (
            session.execute(
                select(col(ReferralMilestone.referral_id)).where(
                    col(ReferralMilestone.practice_ods) == "A81002"
                )
            )
            .scalars()
            .first()
        )
    assert open_referral is not None
    ReadModelActivities(known).apply_projection(
        Projection(
            referral_id=open_referral,
            step_key="004-assessed",
            at=datetime.now(UTC),
            actor=Actor(kind=ActorKind.LINK_WORKER, id="lw-ben"),
            action=ProjectionAction.ASSESSED,
            status=ReferralStatus.ASSESSED,
            link_worker_id="lw-ben",
        )
    )
    after = stages(known, "A81002")
    assessed = [name for name in after if after[name] != before[name]]
    assert len(assessed) == 1 and after[assessed[0]] == (before[assessed[0]] or 0) + 1


def test_a_snapshot_older_than_the_max_age_is_computed_again(known: Engine) -> None:
    assert referred(known) == KNOWN_REFERRALS
    add_referral(known, applied=False)
    with Session(known) as session:
        session.execute(update(ReportSnapshot).values(computed_at=utcnow() - 2 * HOUR))
        session.commit()
    assert referred(known) == KNOWN_REFERRALS + 1
    # A max age of 0: every page computed afresh.
    add_referral(known, applied=False)
    assert referred(known, max_age=timedelta(0)) == KNOWN_REFERRALS + 2


def test_a_snapshot_keeps_the_figures_exactly(known: Engine) -> None:
    """The page from a stored snapshot is the page of the reports computed now."""
    filters = ReportFilter(practice="A81001")
    with Session(known) as session:
        stored = fresh_snapshot(session, filters, Suppression(5), ROI, HOUR)
        again = fresh_snapshot(session, filters, Suppression(5), ROI, HOUR)
        now = page_reports(session, filters, Suppression(5), ROI)
    assert again.computed_at == stored.computed_at
    assert again.reports == now
    assert render_page(again.reports, filters, Suppression(5), again.computed_at) == render_page(
        now, filters, Suppression(5), again.computed_at
    )


SAME = SnapshotInputs.of(ReportFilter(), Suppression(5), ROI).key()


@pytest.mark.parametrize(
    "inputs",
    [
        SnapshotInputs.of(ReportFilter(practice="A81001"), Suppression(5), ROI),
        SnapshotInputs.of(ReportFilter(start=MARCH.date()), Suppression(5), ROI),
        SnapshotInputs.of(ReportFilter(category="sp-arts"), Suppression(5), ROI),
        SnapshotInputs.of(ReportFilter().within(frozenset({"A81001"})), Suppression(5), ROI),
        SnapshotInputs.of(ReportFilter().within(frozenset()), Suppression(5), ROI),
        SnapshotInputs.of(ReportFilter(), Suppression(3), ROI),
        SnapshotInputs.of(
            ReportFilter(), Suppression(5), ROI.model_copy(update={"programme_cost": Decimal(1)})
        ),
        SnapshotInputs.of(ReportFilter(), Suppression(5), ROI.model_copy(update={"seed": 7})),
        SnapshotInputs.of(
            ReportFilter(),
            Suppression(5),
            RoiInputs(settings=ReturnOnInvestmentSettings(bootstrap_resamples=100)),
        ),
    ],
    ids=lambda inputs: inputs.model_dump_json(exclude={"roi"})[:60],
)
def test_other_inputs_never_share_a_snapshot(inputs: SnapshotInputs) -> None:
    assert inputs.key() != SAME
    assert SnapshotInputs.model_validate(inputs.model_dump(mode="json")).key() == inputs.key()


def test_different_filters_are_stored_apart(known: Engine) -> None:
    assert referred(known) == KNOWN_REFERRALS
    assert referred(known, practice="A81002") == 3
    assert referred(known, practice="X99001") == 1
    with Session(known) as session:
        assert session.execute(select(func.count()).select_from(ReportSnapshot)).scalar() == 3


def test_requests_computing_one_snapshot_at_once_store_one(known: Engine) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(lambda _: referred(known), range(4)))
    assert counts == [KNOWN_REFERRALS] * 4
    assert len(computed_at(known)) == 1


FIGURES_AS_AT = re.compile(r"Figures as at (\d\d \w+ \d{4} \d\d:\d\d) UTC")
PEOPLE_REFERRED = re.compile(r"<b>(\S+)</b>people referred")


async def test_an_area_commissioner_never_sees_another_areas_snapshot(
    known: Engine, database_url: str, tmp_path: Path
) -> None:
    body = COMMISSIONER.partition(":")[2]
    async with report_api(database_url, tmp_path / "var", small_numbers=1) as api:
        headers = await signed_in_as(api, COMMISSIONER)

        async def page() -> str:
            response = await api.get("/reports/commissioner.html", headers=headers)
            assert response.status_code == 200, response.text
            return response.text

        before = datetime.now(UTC).replace(second=0, microsecond=0)
        everyone = await page()
        assert PEOPLE_REFERRED.findall(everyone) == [str(KNOWN_REFERRALS)]
        # The page says when its figures were computed.
        stamp = FIGURES_AS_AT.search(everyone)
        assert stamp is not None
        shown = datetime.strptime(stamp.group(1), "%d %B %Y %H:%M").replace(tzinfo=UTC)
        assert before <= shown <= datetime.now(UTC)
        with Session(known) as session:
            set_commissioner_practices(session, body, ["A81002"])
        try:
            assert PEOPLE_REFERRED.findall(await page()) == ["3"]
            with Session(known) as session:
                set_commissioner_practices(session, body, ["X99001"])
            assert PEOPLE_REFERRED.findall(await page()) == ["1"]
        finally:
            with Session(known) as session:
                set_commissioner_practices(session, body, [])
        # Unscoped again: the whole service's snapshot, still fresh, with its time.
        assert await page() == everyone


def key_of(practice: str) -> str:
    return SnapshotInputs.of(ReportFilter(practice=practice), ALL, ROI).key()


def test_the_refresh_computes_stale_snapshots_again_and_leaves_fresh_ones(known: Engine) -> None:
    settings = ReportSettings(snapshot_max_age=HOUR, snapshot_refresh_every=timedelta(minutes=5))
    assert referred(known, practice="A81002") == 3  # stale after the step below
    add_referral(known, applied=True)
    assert referred(known) == KNOWN_REFERRALS + 1  # fresh: computed after it
    assert referred(known, practice="X99001") == 1  # unchanged facts, but about to age out
    assert referred(known, practice="A81001") == 10  # nobody asked for it for days
    with Session(known) as session:
        aged = session.get(ReportSnapshot, key_of("X99001"))
        forgotten = session.get(ReportSnapshot, key_of("A81001"))
        assert aged is not None and forgotten is not None
        aged.computed_at = utcnow() - HOUR + timedelta(minutes=2)
        forgotten.asked_at = utcnow() - timedelta(days=2)
        session.add_all([aged, forgotten])
        session.commit()
        stale = session.get(ReportSnapshot, key_of("A81002"))
        assert stale is not None
        before = {"A81002": stale.computed_at, "X99001": aged.computed_at}

    assert refresh_snapshots(known, settings) == RefreshResult(refreshed=2, fresh=1, forgotten=1)
    # Run again at once: nothing left to do (idempotent).
    assert refresh_snapshots(known, settings) == RefreshResult(refreshed=0, fresh=3, forgotten=0)
    with Session(known) as session:
        for practice, computed in before.items():
            refreshed = session.get(ReportSnapshot, key_of(practice))
            assert refreshed is not None and refreshed.computed_at > computed
        assert session.get(ReportSnapshot, key_of("A81001")) is None
    # Served as refreshed, not computed at the request: a referral added since without a
    # step is not in it, the one whose step was applied before the refresh is.
    add_referral(known, applied=False)
    assert referred(known, practice="A81002") == 4


async def test_the_scheduled_workflow_refreshes_and_the_schedule_follows_the_settings(
    dev_server_env: WorkflowEnvironment, known: Engine
) -> None:
    client = dev_server_env.client
    queue = f"snapshots-{uuid.uuid4()}"
    assert referred(known) == KNOWN_REFERRALS
    add_referral(known, applied=True)
    # The worker as `socialrx worker` builds it: the refresh is registered there.
    async with build_worker(client, queue, known, reports=ReportSettings()):
        result = await client.execute_workflow(
            REPORT_SNAPSHOT_WORKFLOW,
            id=f"snapshots-{uuid.uuid4()}",
            task_queue=queue,
            result_type=RefreshResult,
        )
    assert result == RefreshResult(refreshed=1)
    assert referred(known) == KNOWN_REFERRALS + 1

    await schedule_report_snapshots(client, queue, timedelta(minutes=5))
    try:
        # A second worker starting, with another interval: the one schedule is updated.
        await schedule_report_snapshots(client, queue, timedelta(minutes=2))
        described = await client.get_schedule_handle(REPORT_SNAPSHOT_SCHEDULE).describe()
    finally:
        await client.get_schedule_handle(REPORT_SNAPSHOT_SCHEDULE).delete()
    assert [spec.every for spec in described.schedule.spec.intervals] == [timedelta(minutes=2)]
    action = described.schedule.action
    assert getattr(action, "workflow", None) == REPORT_SNAPSHOT_WORKFLOW
    assert getattr(action, "task_queue", None) == queue
