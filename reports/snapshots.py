"""Snapshots of the printable page's reports: computed once per set of inputs, served again
while the facts behind them are unchanged and they are young.

The page runs six reports; at national size they cost seconds, and commissioners print the
same few filter sets again and again. A snapshot keeps the reports' suppressed models (never
raw counts) under a key made of everything that decides them: the filters after the
commissioner's area was applied (so one area's snapshot is never another's), the small-number
threshold and the return-on-investment inputs.

"Facts changed" is the newest ``applied_step.applied_at``: every projection writes one row
there in the transaction that changes the report tables, and its max() is one step down an
index, so reading it neither scans nor contends with the projections. A step whose
transaction commits after a later one's can hide behind it (its ``applied_at`` is older than
the max already seen), so a snapshot is also never served older than
``SOCIALRX_REPORTS__SNAPSHOT_MAX_AGE``: that bounds how stale a page can be. A bulk load that
bypasses the projections (``socialrx seed --synthetic``) forgets every snapshot.

The worker refreshes, on a schedule, the snapshots asked for recently whose facts changed or
that would outgrow the max age before its next run (``refresh_snapshots``), so the next
person to print gets a warm page.
"""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import CursorResult, Engine, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from core.settings import ReportSettings
from domain.report_tables import ReportSnapshot
from domain.tables import AppliedStep, table_of
from reports.filters import ReportFilter
from reports.page import PageReports, page_reports, render_page
from reports.roi import RoiInputs
from reports.small_numbers import Suppression

SNAPSHOT = table_of(ReportSnapshot)
APPLIED_STEP = table_of(AppliedStep)
FACTS_VERSION = select(func.max(APPLIED_STEP.c.applied_at))
# Someone asking again within this leaves ``asked_at`` as it is: the refresh only needs to
# know who asked within a day, and a write for every page view would buy nothing.
ASKED_PRECISION = timedelta(minutes=5)


class SnapshotInputs(BaseModel):
    """Everything that decides the page's figures; codes, dates and settings only."""

    filters: dict[str, Any]
    area: list[str] | None
    threshold: int
    roi: dict[str, Any]

    @classmethod
    def of(cls, filters: ReportFilter, small: Suppression, roi: RoiInputs) -> "SnapshotInputs":
        area = filters.area
        return cls(
            filters=filters.as_params(),
            area=None if area is None else sorted(area),
            threshold=small.threshold,
            roi=roi.model_dump(mode="json"),
        )

    def key(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def rebuilt(self) -> tuple[ReportFilter, Suppression, RoiInputs]:
        """The arguments the page's reports were computed with."""
        area = None if self.area is None else frozenset(self.area)
        return (
            ReportFilter.model_validate(self.filters).within(area),
            Suppression(self.threshold),
            RoiInputs.model_validate(self.roi),
        )


class Snapshot(BaseModel):
    reports: PageReports
    computed_at: datetime


class RefreshResult(BaseModel):
    """What one scheduled refresh did: snapshots computed again, left fresh, forgotten."""

    refreshed: int = 0
    fresh: int = 0
    forgotten: int = 0


def facts_version(session: Session) -> datetime | None:
    """When the newest step was applied (None: none yet)."""
    return session.execute(FACTS_VERSION).scalar()


def printable_page(
    session: Session,
    filters: ReportFilter,
    small: Suppression,
    roi: RoiInputs,
    max_age: timedelta,
) -> str:
    """The commissioner's page from its snapshot, computed afresh if there is none fresh."""
    snapshot = fresh_snapshot(session, filters, small, roi, max_age)
    return render_page(snapshot.reports, filters, small, snapshot.computed_at)


def fresh_snapshot(
    session: Session,
    filters: ReportFilter,
    small: Suppression,
    roi: RoiInputs,
    max_age: timedelta,
) -> Snapshot:
    """The stored snapshot of these inputs if no step was applied since it was computed and it
    is younger than ``max_age``; otherwise the reports computed now, stored for the next."""
    inputs = SnapshotInputs.of(filters, small, roi)
    key = inputs.key()
    now = datetime.now(UTC)
    stored = session.execute(
        select(
            SNAPSHOT.c.reports,
            SNAPSHOT.c.facts_version,
            SNAPSHOT.c.computed_at,
            SNAPSHOT.c.asked_at,
            FACTS_VERSION.scalar_subquery().label("current_version"),
        ).where(SNAPSHOT.c.key == key)
    ).first()
    if stored is not None and _fresh(
        stored.facts_version, stored.computed_at, stored.current_version, now, max_age
    ):
        if now - stored.asked_at > ASKED_PRECISION:
            session.execute(SNAPSHOT.update().where(SNAPSHOT.c.key == key).values(asked_at=now))
            session.commit()
        return Snapshot(
            reports=PageReports.model_validate(stored.reports), computed_at=stored.computed_at
        )
    return _compute_and_store(session, inputs, key, asked_at=now)


def _fresh(
    version: datetime | None,
    computed_at: datetime,
    current_version: datetime | None,
    now: datetime,
    max_age: timedelta,
) -> bool:
    return version == current_version and now - computed_at < max_age


def _compute_and_store(
    session: Session, inputs: SnapshotInputs, key: str, asked_at: datetime
) -> Snapshot:
    # The version is read before the reports: a step applied while they run makes the next
    # request see a newer version and compute again, rather than hide behind this snapshot.
    version = facts_version(session)
    computed_at = datetime.now(UTC)
    filters, small, roi = inputs.rebuilt()
    reports = page_reports(session, filters, small, roi)
    values = {
        "key": key,
        "inputs": inputs.model_dump(mode="json"),
        "reports": reports.model_dump(mode="json"),
        "facts_version": version,
        "computed_at": computed_at,
        "asked_at": asked_at,
    }
    # Requests computing the same snapshot at once: each stores its own, and the one computed
    # last stays (never an error, never an older one over a newer).
    upsert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    statement = upsert(SNAPSHOT).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[SNAPSHOT.c.key],
            set_={
                **{name: statement.excluded[name] for name in values if name != "key"},
                # A refresh keeps when it was last asked for; a request moves it on.
                "asked_at": case(
                    (
                        SNAPSHOT.c.asked_at < statement.excluded.asked_at,
                        statement.excluded.asked_at,
                    ),
                    else_=SNAPSHOT.c.asked_at,
                ),
            },
            where=SNAPSHOT.c.computed_at < statement.excluded.computed_at,
        )
    )
    session.commit()
    return Snapshot(reports=reports, computed_at=computed_at)


def refresh_snapshots(engine: Engine, settings: ReportSettings) -> RefreshResult:
    """Compute again the snapshots asked for within ``snapshot_kept_for`` whose facts changed
    or that would outgrow ``snapshot_max_age`` before the next refresh; forget the ones nobody
    asked for within it (no request could be served them: they have outgrown the max age).
    Safe to run twice at once: each snapshot is stored by upsert, the newest kept."""
    now = datetime.now(UTC)
    result = RefreshResult()
    # Renewed when it would be stale before the next run, so a request never finds it so.
    renew_before = now - settings.snapshot_max_age + settings.snapshot_refresh_every
    with Session(engine) as session:
        forgotten = cast(
            CursorResult[Any],
            session.execute(
                delete(SNAPSHOT).where(SNAPSHOT.c.asked_at < now - settings.snapshot_kept_for)
            ),
        )
        result.forgotten = forgotten.rowcount
        session.commit()
        current = facts_version(session)
        kept = session.execute(
            select(
                SNAPSHOT.c.key,
                SNAPSHOT.c.inputs,
                SNAPSHOT.c.facts_version,
                SNAPSHOT.c.computed_at,
                SNAPSHOT.c.asked_at,
            ).order_by(SNAPSHOT.c.key)
        ).all()
    for row in kept:
        if row.facts_version == current and row.computed_at > renew_before:
            result.fresh += 1
            continue
        with Session(engine) as session:
            inputs = SnapshotInputs.model_validate(row.inputs)
            _compute_and_store(session, inputs, row.key, asked_at=row.asked_at)
        result.refreshed += 1
    return result


def forget_snapshots(engine: Engine) -> None:
    """Forget every snapshot: for a bulk load that writes the report tables without applying
    steps, which the facts version cannot see."""
    with engine.begin() as connection:
        connection.execute(delete(SNAPSHOT))
