"""Outcomes of the people followed up: each instrument's most recent checkpoint against its
baseline (``outcome_change``, computed when the checkpoint was recorded)."""

import math
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Integer, case, func, select
from sqlmodel import Session, col

from domain.measures import INSTRUMENTS, Direction
from domain.report_tables import OutcomeChange as C
from domain.report_tables import ReferralMilestone as M
from reports.filters import ReportFilter
from reports.small_numbers import Suppression

STAR, ONS4, SERVICE_USE = (
    INSTRUMENTS[code, "1"] for code in ("wellbeing_star", "ons4", "service_use")
)
AREAS, ONS4_ITEMS, SERVICE_USE_ITEMS = STAR.items, ONS4.items, SERVICE_USE.items
NOT_SHOWN = "not shown: too few people"
NOBODY = "nobody measured"
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

    direction: Direction = Field(description="Of the areas' scores: higher is better.")
    people: int | None = Field(description="Followed up with the star at baseline and after.")
    improved_any_area: int | None
    improved_any_area_pct: float | None
    areas: list[AreaChange]


class MeanChange(BaseModel):
    direction: Direction = Field(description="Of the measure's own score.")
    people: int | None
    mean_change: float | None = Field(
        description="Signed so that positive is better for the person, whichever way the "
        "score runs: see in_words."
    )
    ci95_low: float | None = None
    ci95_high: float | None = None
    meaningful: int | None = None
    meaningful_pct: float | None = None
    in_words: str = Field(description="The mean change in plain words.")


class ItemChange(BaseModel):
    item: str
    direction: Direction = Field(description="Of the item's own score or count.")
    people: int | None
    mean_change: float | None = Field(
        description="Signed so that positive is better (less anxiety, fewer contacts, too)."
    )
    improved_pct: float | None
    in_words: str = Field(description="The change in plain words.")


class ServiceUseItem(ItemChange):
    """One kind of NHS contact; fewer is better. The counts are shown as a pair or not at
    all: with the mean change shown, one count and the mean would give the other away."""

    contacts_before: int | None
    contacts_after: int | None
    change_pct: float | None = Field(
        description="(after - before) / before: negative is fewer contacts, which is better."
    )


class ServiceUseChange(BaseModel):
    direction: Direction = Field(description="Fewer contacts is better.")
    people: int | None
    contacts_before: int | None
    contacts_after: int | None
    change_pct: float | None = Field(
        description="(after - before) / before; negative is fewer. Null when either count is "
        "suppressed, and so are the items' mean changes, which add up to the difference."
    )
    in_words: str = Field(description="'fell by X% (from a to b)' or 'rose by ...'.")
    items: list[ServiceUseItem]


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
        swemwbs=_mean_change(totals.get("swemwbs"), small, Direction.HIGHER_IS_BETTER),
        ons4=_item_changes(totals.get("ons4"), small),
        loneliness=_mean_change(totals.get("ucla3"), small, Direction.LOWER_IS_BETTER),
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


def _before(name: str) -> ColumnElement[Any]:
    """A service-use item's count at baseline, on service-use rows only."""
    value = col(C.item_before)[name].as_integer()
    return case((col(C.instrument) == SERVICE_USE.code, value))


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
        *(func.sum(_before(name)).label(f"before:{name}") for name in SERVICE_USE_ITEMS),
    ).where(col(C.latest), col(C.has_baseline))
    conditions = filters.conditions()
    if conditions:
        # Only a filter needs the referral's facts; unfiltered, the join would be wasted work.
        query = query.join(M, col(M.referral_id) == col(C.referral_id)).where(*conditions)
    rows = session.execute(query.group_by(col(C.instrument))).mappings().all()
    return {row["instrument"]: {k: v or 0 for k, v in row.items()} for row in rows}


def score_words(mean: float | None) -> str:
    """A mean change signed so that positive is better, in words."""
    if mean is None:
        return NOT_SHOWN
    if mean > 0:
        return f"improved by {mean:.2f} on average"
    if mean < 0:
        return f"worsened by {-mean:.2f} on average"
    return "no change on average"


def contacts_words(before: int | None, after: int | None, change_pct: float | None) -> str:
    """Counts of contacts, fewer being better: 'fell by 20.0% (from 10 to 8)'."""
    if before is None or after is None:
        return NOT_SHOWN
    if after == before:
        return "none before or after" if not before else f"no change ({before} before and after)"
    verb = "fell" if after < before else "rose"
    by = "" if change_pct is None else f" by {abs(change_pct):.1f}%"
    return f"{verb}{by} (from {before} to {after})"


def _positive_change(totals: dict[str, Any] | None, small: Suppression) -> PositiveChange:
    totals = totals or {}
    people = small.count(int(totals.get("people", 0)))
    improved = small.count(int(totals.get("improved_any", 0)))
    by_area = [small.count(int(totals.get(f"up:{area}", 0))) for area in AREAS]
    return PositiveChange(
        direction=STAR.direction,
        people=people,
        improved_any_area=improved,
        improved_any_area_pct=small.share(improved, people),
        areas=[
            AreaChange(area=area, improved=n, improved_pct=small.share(n, people))
            for area, n in zip(AREAS, by_area, strict=True)
        ],
    )


def _mean_change(
    totals: dict[str, Any] | None, small: Suppression, direction: Direction
) -> MeanChange:
    totals = totals or {}
    n = int(totals.get("scored", 0))
    if not small.enough(n):
        return MeanChange(
            direction=direction,
            people=small.count(n),
            mean_change=None,
            in_words=NOT_SHOWN if n else NOBODY,
        )
    mean = float(totals["total"]) / n
    low = high = None
    if n > 1:
        variance = max(0.0, (float(totals["squares"]) - n * mean * mean) / (n - 1))
        margin = (T95[n - 2] if n - 2 < len(T95) else 1.96) * math.sqrt(variance / n)
        low, high = round(mean - margin, 2), round(mean + margin, 2)
    meaningful = small.count(int(totals["meaningful"]))
    return MeanChange(
        direction=direction,
        people=n,
        mean_change=round(mean, 2),
        ci95_low=low,
        ci95_high=high,
        meaningful=meaningful,
        meaningful_pct=small.share(meaningful, n),
        in_words=score_words(round(mean, 2)),
    )


def _item_changes(totals: dict[str, Any] | None, small: Suppression) -> list[ItemChange]:
    totals = totals or {}
    n = int(totals.get("people", 0))
    shown = small.enough(n)
    changes = []
    for item in ONS4_ITEMS:
        mean = round(float(totals[f"sum:{item}"]) / n, 2) if shown else None
        changes.append(
            ItemChange(
                item=item,
                direction=ONS4.direction_of(item),
                people=small.count(n),
                mean_change=mean,
                improved_pct=small.share(small.count(int(totals[f"up:{item}"])), n)
                if shown
                else None,
                in_words=score_words(mean) if n else NOBODY,
            )
        )
    return changes


def _service_use(totals: dict[str, Any] | None, small: Suppression) -> ServiceUseChange:
    totals = totals or {}
    n = int(totals.get("people", 0))
    before, after = (int(totals.get(key, 0)) for key in ("before", "after"))
    shown = small.enough(n)
    contacts_before = small.count(before) if shown else None
    contacts_after = small.count(after) if shown else None
    # From the shown counts only: a change from a suppressed count would give it away.
    change_pct = small.change(contacts_before, contacts_after)
    # The items' mean changes add up to (before - after) / people, so with one of the two
    # counts suppressed they would give it away too.
    means = contacts_before is not None and contacts_after is not None
    return ServiceUseChange(
        direction=SERVICE_USE.direction,
        people=small.count(n),
        contacts_before=contacts_before,
        contacts_after=contacts_after,
        change_pct=change_pct,
        in_words=contacts_words(contacts_before, contacts_after, change_pct) if n else NOBODY,
        items=[_service_use_item(totals, small, item, n, means) for item in SERVICE_USE_ITEMS],
    )


def _service_use_item(
    totals: dict[str, Any], small: Suppression, item: str, n: int, means: bool
) -> ServiceUseItem:
    shown = small.enough(n)
    fewer = int(totals.get(f"sum:{item}", 0))  # improvement: before - after
    before = int(totals.get(f"before:{item}", 0))
    counts = (small.count(before), small.count(before - fewer)) if shown else (None, None)
    # Shown as a pair or not at all: one count with the mean change gives the other away.
    pair_shown = None not in counts
    contacts_before, contacts_after = counts if pair_shown else (None, None)
    change_pct = small.change(contacts_before, contacts_after)
    mean = round(fewer / n, 2) if shown and means else None
    words = contacts_words(contacts_before, contacts_after, change_pct) if n else NOBODY
    if not pair_shown and mean is not None:
        words = f"{'fewer' if mean > 0 else 'more' if mean < 0 else 'no change'}" + (
            f": {abs(mean):.2f} a person on average" if mean else " on average"
        )
    return ServiceUseItem(
        item=item,
        direction=SERVICE_USE.direction_of(item),
        people=small.count(n),
        mean_change=mean,
        improved_pct=small.share(small.count(int(totals.get(f"up:{item}", 0))), n)
        if shown
        else None,
        in_words=words,
        contacts_before=contacts_before,
        contacts_after=contacts_after,
        change_pct=change_pct,
    )
