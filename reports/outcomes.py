"""Outcomes of the people followed up: each instrument's most recent checkpoint against its
baseline (``outcome_change``, computed when the checkpoint was recorded)."""

import math
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Integer, case, func, select
from sqlmodel import Session, col

from domain.measures import INSTRUMENTS
from domain.report_tables import OutcomeChange as C
from domain.report_tables import ReferralMilestone as M
from reports.filters import ReportFilter
from reports.small_numbers import Suppression

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
    change_pct: float | None = Field(
        description="(after - before) / before; negative is fewer. Null when either count is "
        "suppressed, and so are the items' mean changes, which add up to the difference."
    )
    items: list[ItemChange]


class Outcomes(BaseModel):
    follow_up: FollowUpCoverage
    positive_change: PositiveChange
    swemwbs: MeanChange
    ons4: list[ItemChange]
    loneliness: MeanChange
    service_use: ServiceUseChange


def outcomes(session: Session, filters: ReportFilter, small: Suppression) -> Outcomes:
    totals = _totals(session, filters)
    return Outcomes(
        follow_up=_coverage(session, filters, small),
        positive_change=_positive_change(totals.get("wellbeing_star"), small),
        swemwbs=_mean_change(totals.get("swemwbs"), small),
        ons4=_item_changes(totals.get("ons4"), small, ONS4_ITEMS),
        loneliness=_mean_change(totals.get("ucla3"), small),
        service_use=_service_use(totals.get("service_use"), small),
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


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


# The items whose change is reported one by one, by instrument; names never repeat.
ITEMISED = {"wellbeing_star": AREAS, "ons4": ONS4_ITEMS, "service_use": SERVICE_USE_ITEMS}


def _item(instrument: str, name: str) -> ColumnElement[Any]:
    """The item's change on that instrument's rows only: no other row's JSON is read."""
    value = col(C.item_improvement)[name].as_integer()
    return case((col(C.instrument) == instrument, value))


def _totals(session: Session, filters: ReportFilter) -> dict[str, dict[str, int | float]]:
    """Every instrument's sums in one pass over the latest changes that have a baseline."""
    x = col(C.total_improvement)
    items = [(instrument, name) for instrument, names in ITEMISED.items() for name in names]
    query = select(
        col(C.instrument),
        func.count().label("people"),
        func.count(x).label("scored"),
        func.sum(x).label("total"),
        func.sum(x * x).label("squares"),
        _count_if(col(C.meaningful).is_(True)).label("meaningful"),
        _count_if(col(C.improved_any).is_(True)).label("improved_any"),
        func.sum(func.cast(col(C.before_total), Integer)).label("before"),
        func.sum(func.cast(col(C.after_total), Integer)).label("after"),
        *(func.sum(_item(i, name)).label(f"sum:{name}") for i, name in items),
        *(_count_if(_item(i, name) > 0).label(f"up:{name}") for i, name in items),
    ).where(col(C.latest), col(C.has_baseline))
    conditions = filters.conditions()
    if conditions:
        # Only a filter needs the referral's facts; unfiltered, the join would be wasted work.
        query = query.join(M, col(M.referral_id) == col(C.referral_id)).where(*conditions)
    rows = session.execute(query.group_by(col(C.instrument))).mappings().all()
    return {row["instrument"]: {k: v or 0 for k, v in row.items()} for row in rows}


def _positive_change(totals: dict[str, Any] | None, small: Suppression) -> PositiveChange:
    totals = totals or {}
    people = small.count(int(totals.get("people", 0)))
    improved = small.count(int(totals.get("improved_any", 0)))
    by_area = [small.count(int(totals.get(f"up:{area}", 0))) for area in AREAS]
    return PositiveChange(
        people=people,
        improved_any_area=improved,
        improved_any_area_pct=small.share(improved, people),
        areas=[
            AreaChange(area=area, improved=n, improved_pct=small.share(n, people))
            for area, n in zip(AREAS, by_area, strict=True)
        ],
    )


def _mean_change(totals: dict[str, Any] | None, small: Suppression) -> MeanChange:
    totals = totals or {}
    n = int(totals.get("scored", 0))
    if not small.enough(n):
        return MeanChange(people=small.count(n), mean_change=None)
    mean = float(totals["total"]) / n
    low = high = None
    if n > 1:
        variance = max(0.0, (float(totals["squares"]) - n * mean * mean) / (n - 1))
        margin = (T95[n - 2] if n - 2 < len(T95) else 1.96) * math.sqrt(variance / n)
        low, high = round(mean - margin, 2), round(mean + margin, 2)
    meaningful = small.count(int(totals["meaningful"]))
    return MeanChange(
        people=n,
        mean_change=round(mean, 2),
        ci95_low=low,
        ci95_high=high,
        meaningful=meaningful,
        meaningful_pct=small.share(meaningful, n),
    )


def _item_changes(
    totals: dict[str, Any] | None,
    small: Suppression,
    items: tuple[str, ...],
    *,
    means: bool = True,
) -> list[ItemChange]:
    totals = totals or {}
    n = int(totals.get("people", 0))
    shown = small.enough(n)
    return [
        ItemChange(
            item=item,
            people=small.count(n),
            mean_change=round(float(totals[f"sum:{item}"]) / n, 2) if shown and means else None,
            improved_pct=small.share(small.count(int(totals[f"up:{item}"])), n) if shown else None,
        )
        for item in items
    ]


def _service_use(totals: dict[str, Any] | None, small: Suppression) -> ServiceUseChange:
    n = int((totals or {}).get("people", 0))
    before, after = (int((totals or {}).get(key, 0)) for key in ("before", "after"))
    shown = small.enough(n)
    contacts_before = small.count(before) if shown else None
    contacts_after = small.count(after) if shown else None
    both_shown = contacts_before is not None and contacts_after is not None
    return ServiceUseChange(
        people=small.count(n),
        contacts_before=contacts_before,
        contacts_after=contacts_after,
        # From the shown counts only: a change from a suppressed count would give it away.
        change_pct=small.change(contacts_before, contacts_after),
        # The items' mean changes add up to (before - after) / people, so with one of the
        # two counts suppressed they would give it away too.
        items=_item_changes(totals, small, SERVICE_USE_ITEMS, means=both_shown),
    )
