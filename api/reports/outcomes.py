"""Outcomes of the people followed up: each instrument's most recent checkpoint against its
baseline (``outcome_change``, computed when the checkpoint was recorded)."""

import math
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Integer, case, func, select
from sqlmodel import Session, col

from api.reports.filters import ReportFilter
from api.reports.small_numbers import Suppression
from domain.measures import INSTRUMENTS
from domain.report_tables import OutcomeChange as C
from domain.report_tables import ReferralMilestone as M

AREAS = INSTRUMENTS["wellbeing_star", "1"].items
ONS4_ITEMS = INSTRUMENTS["ons4", "1"].items
SERVICE_USE_ITEMS = INSTRUMENTS["service_use", "1"].items
# Two-sided 95% critical values of Student's t for 1..29 degrees of freedom; 1.96 beyond.
T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
       2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
       2.060, 2.056, 2.052, 2.048, 2.045)  # fmt: skip


class FollowUpCoverage(BaseModel):
    eligible: int | None = Field(description="Referrals that reached a follow-up checkpoint.")
    followed_up: int | None
    followed_up_pct: float | None


class AreaChange(BaseModel):
    area: str
    improved: int | None
    improved_pct: float | None


class PositiveChange(BaseModel):
    """The Rotherham headline: positive change in at least one Well-being Star area."""

    people: int | None = Field(description="Followed up with the star at baseline and after.")
    improved_any_area: int | None
    improved_any_area_pct: float | None
    areas: list[AreaChange]


class MeanChange(BaseModel):
    people: int | None
    mean_change: float | None = Field(description="Positive is better for the person.")
    ci95_low: float | None = None
    ci95_high: float | None = None
    meaningful: int | None = None
    meaningful_pct: float | None = None


class ItemChange(BaseModel):
    item: str
    people: int | None
    mean_change: float | None = Field(description="Positive is better (less anxiety, too).")
    improved_pct: float | None


class ServiceUseChange(BaseModel):
    people: int | None
    contacts_before: int | None
    contacts_after: int | None
    change_pct: float | None = Field(description="(after - before) / before; negative is fewer.")
    items: list[ItemChange]


class Outcomes(BaseModel):
    follow_up: FollowUpCoverage
    positive_change: PositiveChange
    swemwbs: MeanChange
    ons4: list[ItemChange]
    loneliness: MeanChange
    service_use: ServiceUseChange


def outcomes(session: Session, filters: ReportFilter, small: Suppression) -> Outcomes:
    return Outcomes(
        follow_up=_coverage(session, filters, small),
        positive_change=_positive_change(session, filters, small),
        swemwbs=_mean_change(session, filters, small, "swemwbs"),
        ons4=_item_changes(session, filters, small, "ons4", ONS4_ITEMS),
        loneliness=_mean_change(session, filters, small, "ucla3"),
        service_use=_service_use(session, filters, small),
    )


def _coverage(session: Session, filters: ReportFilter, small: Suppression) -> FollowUpCoverage:
    eligible, followed = session.execute(
        select(
            func.sum(case((col(M.follow_up_due), 1), else_=0)),
            func.count(col(M.followed_up_at)),
        ).where(*filters.conditions())
    ).one()
    eligible, followed = small.count(int(eligible or 0)), small.count(int(followed or 0))
    return FollowUpCoverage(
        eligible=eligible, followed_up=followed, followed_up_pct=small.share(followed, eligible)
    )


def _changes(instrument: str, filters: ReportFilter, *columns: Any) -> Any:
    """The latest change with a baseline of one instrument, per referral that matches."""
    return (
        select(*columns)
        .select_from(C)
        .join(M, col(M.referral_id) == col(C.referral_id))
        .where(col(C.instrument) == instrument, col(C.latest), col(C.has_baseline))
        .where(*filters.conditions())
    )


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _item(name: str) -> ColumnElement[int]:
    return col(C.item_improvement)[name].as_integer()


def _positive_change(session: Session, filters: ReportFilter, small: Suppression) -> PositiveChange:
    row = session.execute(
        _changes(
            "wellbeing_star",
            filters,
            func.count(),
            _count_if(col(C.improved_any).is_(True)),
            *(_count_if(_item(area) > 0) for area in AREAS),
        )
    ).one()
    people, improved, *by_area = (small.count(int(n or 0)) for n in row)
    return PositiveChange(
        people=people,
        improved_any_area=improved,
        improved_any_area_pct=small.share(improved, people),
        areas=[
            AreaChange(area=area, improved=n, improved_pct=small.share(n, people))
            for area, n in zip(AREAS, by_area, strict=True)
        ],
    )


def _mean_change(
    session: Session, filters: ReportFilter, small: Suppression, instrument: str
) -> MeanChange:
    x = col(C.total_improvement)
    n, total, squares, meaningful = session.execute(
        _changes(instrument, filters, func.count(x), func.sum(x), func.sum(x * x),
                 _count_if(col(C.meaningful).is_(True)))
    ).one()  # fmt: skip
    n = int(n or 0)
    if not small.enough(n):
        return MeanChange(people=small.count(n), mean_change=None)
    mean = float(total) / n
    low = high = None
    if n > 1:
        variance = max(0.0, (float(squares) - n * mean * mean) / (n - 1))
        margin = (T95[n - 2] if n - 2 < len(T95) else 1.96) * math.sqrt(variance / n)
        low, high = round(mean - margin, 2), round(mean + margin, 2)
    shown_meaningful = small.count(int(meaningful or 0))
    return MeanChange(
        people=n,
        mean_change=round(mean, 2),
        ci95_low=low,
        ci95_high=high,
        meaningful=shown_meaningful,
        meaningful_pct=small.share(shown_meaningful, n),
    )


def _item_changes(
    session: Session,
    filters: ReportFilter,
    small: Suppression,
    instrument: str,
    items: tuple[str, ...],
) -> list[ItemChange]:
    row = session.execute(
        _changes(
            instrument,
            filters,
            func.count(),
            *(func.sum(_item(item)) for item in items),
            *(_count_if(_item(item) > 0) for item in items),
        )
    ).one()
    n = int(row[0] or 0)
    sums, improved = row[1 : 1 + len(items)], row[1 + len(items) :]
    shown = small.enough(n)
    return [
        ItemChange(
            item=item,
            people=small.count(n),
            mean_change=round(float(total) / n, 2) if shown else None,
            improved_pct=small.share(small.count(int(up or 0)), n) if shown else None,
        )
        for item, total, up in zip(items, sums, improved, strict=True)
    ]


def _service_use(session: Session, filters: ReportFilter, small: Suppression) -> ServiceUseChange:
    n, before, after = session.execute(
        _changes(
            "service_use",
            filters,
            func.count(),
            func.sum(func.cast(col(C.before_total), Integer)),
            func.sum(func.cast(col(C.after_total), Integer)),
        )
    ).one()
    n, before, after = int(n or 0), int(before or 0), int(after or 0)
    shown = small.enough(n)
    return ServiceUseChange(
        people=small.count(n),
        contacts_before=small.count(before) if shown else None,
        contacts_after=small.count(after) if shown else None,
        change_pct=round(100.0 * (after - before) / before, 1) if shown and before else None,
        items=_item_changes(session, filters, small, "service_use", SERVICE_USE_ITEMS),
    )
