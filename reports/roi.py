"""Return on investment: the NHS contacts of the people followed up, before and after, costed
and annualised, against what the programme cost for the same people.

Formula (docs/reports.md gives it with an example):

- per item, the change in contacts ``after - before`` summed over the people, costed at the
  item's unit cost and annualised: ``x 365 / service-use period in days``;
- NHS cost avoided = minus the sum of those (a fall in contacts is a cost avoided);
- programme cost for the same people = programme cost for the period / referrals received in
  the period (the whole service: the practice, organisation and need filters pick people, not
  the programme's cost) x the people measured;
- return on investment, in pence per pound = 100 x cost avoided / programme cost for them;
- its 95% interval: a bootstrap over people (resampling them with replacement), seeded.

Before-and-after, no control group, regression to the mean: the caveats say so.
"""

from collections.abc import Mapping
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session, col

from core.settings import ReturnOnInvestmentSettings
from domain.measures import INSTRUMENTS, Direction
from domain.report_tables import OutcomeChange as C
from domain.report_tables import ReferralMilestone as M
from domain.unit_costs import UNIT_COSTS
from reports.filters import ReportFilter
from reports.outcomes import NOT_SHOWN, contacts_words
from reports.small_numbers import NONE, Suppression, Total
from reports.tables import Table

SERVICE_USE = INSTRUMENTS["service_use", "1"]
# A commissioner's words for the items, as the evaluations name them.
ITEM_LABELS = {
    "gp_consultations": "GP consultations",
    "ae_attendances": "A&E attendances",
    "outpatient_appointments": "Outpatient appointments",
    "inpatient_stays": "Inpatient stays",
}
PEOPLE, REFERRALS = "people", "referrals_in_period"
PENNY = Decimal("0.01")
YEAR_DAYS = Decimal(365)
CAVEATS = (
    "Before and after: this compares each person's NHS contacts before they were referred "
    "with their contacts at their latest follow-up. There is no control group, so it cannot "
    "say how many contacts they would have had without the service.",
    "Regression to the mean inflates it: people are often referred when they are using "
    "services most, and many would have used fewer later anyway.",
    "Contacts are what people recall over the period asked about, annualised as if that "
    "period were typical of the year.",
    "It counts only the items with a unit cost, at national average costs, and only the people "
    "followed up with service use recorded at baseline and after: those lost to follow-up are "
    "not in it.",
    "A cost avoided is not cash released: fewer GP or A&E contacts free capacity that others use.",
)


class RoiItem(BaseModel):
    item: str
    direction: Direction = Field(
        default=Direction.LOWER_IS_BETTER, description="Fewer contacts is better."
    )
    contacts_before: int | None
    contacts_after: int | None
    change_pct: float | None = Field(description="Negative is fewer contacts: better.")
    in_words: str
    unit_cost: float | None = Field(description="Pounds per contact; null: not costed.")
    unit_cost_source: str
    annual_cost_change: float | None = Field(
        description="Pounds a year, after minus before: negative is a cost avoided."
    )


class ReturnOnInvestment(BaseModel):
    people: int | None = Field(description="Followed up, with service use at baseline.")
    service_use_period_days: float
    items: list[RoiItem]
    not_costed: list[str] = Field(description="Items left out: no unit cost.")
    annual_cost_change: float | None = Field(
        description="Pounds a year over these people; negative is a cost avoided."
    )
    nhs_cost_avoided: float | None = Field(description="Pounds a year: -annual_cost_change.")
    referrals_in_period: int | None
    programme_cost: float | None = Field(description="Pounds, for the period, whole service.")
    programme_cost_from: str
    programme_cost_per_referral: float | None
    programme_cost_for_people: float | None
    roi_pence_per_pound: float | None = Field(
        description="NHS cost avoided per pound the programme cost for the same people."
    )
    ci95_low_pence: float | None
    ci95_high_pence: float | None
    bootstrap_resamples: int
    bootstrap_seed: int
    not_shown_because: str | None = Field(description="Why the return is not shown, if not.")
    caveats: list[str]


class RoiInputs(BaseModel):
    """What the report is asked with, beyond the filters: the settings, and the programme's
    cost and the seed when the caller gives them."""

    settings: ReturnOnInvestmentSettings
    programme_cost: Decimal | None = None
    seed: int | None = None


def _money(value: Decimal) -> float:
    return float(value.quantize(PENNY, ROUND_HALF_UP))


def _pence(value: Decimal | float) -> float:
    return float(Decimal(value).quantize(Decimal(1), ROUND_HALF_UP))


def _period_days(period: timedelta) -> Decimal:
    return Decimal(int(period.total_seconds())) / Decimal(86400)


def return_on_investment(
    session: Session, filters: ReportFilter, small: Suppression, inputs: RoiInputs
) -> ReturnOnInvestment:
    settings = inputs.settings
    period = _period_days(settings.service_use_period)
    annualise = YEAR_DAYS / period
    costs = {item: settings.unit_cost(item) for item in SERVICE_USE.items}
    priced = {item: cost for item, cost in costs.items() if cost is not None}
    groups = _people_by_change(session, filters)
    n = sum(count for _, count, _ in groups)
    before = {item: sum(b[i] for _, _, b in groups) for i, item in enumerate(SERVICE_USE.items)}
    fewer = {
        item: sum(imp[i] * count for imp, count, _ in groups)
        for i, item in enumerate(SERVICE_USE.items)
    }
    referrals = _referrals_in_period(session, filters)
    shown = small.enough(n)
    counts = _protected_counts(n, referrals, before, fewer, small) if shown else {}
    items = [
        _item(item, before[item], before[item] - fewer[item], costs[item], annualise, counts)
        for item in SERVICE_USE.items
    ]
    costed = [i for i in items if i.item in priced]
    # Only with every costed item's counts shown: an item's cost with the others' would give
    # its change, and with a count published elsewhere, the count kept back.
    figures_shown = shown and all(i.contacts_before is not None for i in costed)
    avoided = sum((fewer[item] * cost * annualise for item, cost in priced.items()), Decimal(0))
    programme, programme_from = _programme_cost(filters, inputs)
    result = ReturnOnInvestment(
        people=counts.get(PEOPLE) if shown else small.count(n),
        service_use_period_days=float(period),
        items=items,
        not_costed=[i.item for i in items if i.unit_cost is None],
        annual_cost_change=_money(-avoided) if figures_shown else None,
        nhs_cost_avoided=_money(avoided) if figures_shown else None,
        referrals_in_period=counts.get(REFERRALS) if shown else small.count(referrals),
        programme_cost=_money(programme) if programme is not None else None,
        programme_cost_from=programme_from,
        programme_cost_per_referral=None,
        programme_cost_for_people=None,
        roi_pence_per_pound=None,
        ci95_low_pence=None,
        ci95_high_pence=None,
        bootstrap_resamples=settings.bootstrap_resamples,
        bootstrap_seed=settings.bootstrap_seed if inputs.seed is None else inputs.seed,
        not_shown_because=None,
        caveats=list(CAVEATS),
    )
    why = _why_not_shown(figures_shown, programme, referrals, small, costed)
    if why is not None or programme is None:
        result.not_shown_because = why
        return result
    per_referral = programme / referrals
    for_people = per_referral * n
    result.programme_cost_per_referral = _money(per_referral)
    result.programme_cost_for_people = _money(for_people)
    result.roi_pence_per_pound = _pence(100 * avoided / for_people)
    low, high = _bootstrap(groups, costs, annualise, for_people, result.bootstrap_resamples,
                           result.bootstrap_seed)  # fmt: skip
    result.ci95_low_pence, result.ci95_high_pence = _pence(low), _pence(high)
    return result


def _protected_counts(
    people: int,
    referrals: int,
    before: dict[str, int],
    fewer: dict[str, int],
    small: Suppression,
) -> dict[str, int | None]:
    """The report's counts as they may leave the service (``Suppression.protect``). The
    items' contacts add up to the outcomes report's contacts before and after for the same
    people, which it publishes; and it publishes each item's mean change, so an item's
    after is its before less a known figure: the two are shown as a pair or not at all."""
    befores = {f"before:{item}": before[item] for item in SERVICE_USE.items}
    afters = {f"after:{item}": before[item] - fewer[item] for item in SERVICE_USE.items}
    pairs = {f"after:{item}": f"before:{item}" for item in SERVICE_USE.items}
    return small.protect(
        {PEOPLE: people, REFERRALS: referrals} | befores | afters,
        [Total(tuple(befores)), Total(tuple(afters))],
        hidden_with=pairs | {leader: follower for follower, leader in pairs.items()},
    )


def _why_not_shown(
    figures_shown: bool,
    programme: Decimal | None,
    referrals: int,
    small: Suppression,
    costed: list[RoiItem],
) -> str | None:
    if not costed:
        return "no service-use item has a unit cost: set SOCIALRX_REPORTS__ROI__UNIT_COSTS"
    if not figures_shown:
        return NOT_SHOWN
    if programme is None:
        return (
            "no programme cost: give programme_cost (pounds for the period), or set "
            "SOCIALRX_REPORTS__ROI__PROGRAMME_COST_PER_YEAR and give start and end"
        )
    if not small.enough(referrals):
        return "too few referrals in the period to share the programme's cost"
    if programme == 0:
        return "the programme cost is zero: a return per pound has no meaning"
    return None


def _item(
    item: str,
    before: int,
    after: int,
    cost: Decimal | None,
    annualise: Decimal,
    counts: Mapping[str, int | None],
) -> RoiItem:
    """``counts`` are the protected ones (none when too few people to show any); ``before``
    and ``after`` the true ones, for the cost, shown only with the counts."""
    pair = (counts.get(f"before:{item}"), counts.get(f"after:{item}"))
    change_pct = NONE.change(*pair)  # from the protected counts: nothing more to hide
    return RoiItem(
        item=item,
        contacts_before=pair[0],
        contacts_after=pair[1],
        change_pct=change_pct,
        in_words=contacts_words(*pair, change_pct),
        unit_cost=None if cost is None else _money(cost),
        unit_cost_source=UNIT_COSTS[item].source if cost == UNIT_COSTS[item].pounds
        else "left out by this service" if cost is None
        else "set by this service",
        annual_cost_change=_money((after - before) * cost * annualise)
        if cost is not None and pair[0] is not None
        else None,
    )  # fmt: skip


def _people_by_change(
    session: Session, filters: ReportFilter
) -> list[tuple[tuple[int, ...], int, tuple[int, ...]]]:
    """People grouped by their change in each item (before minus after), with how many share
    it and their counts before: a few hundred groups at most, however many people. The
    bootstrap resamples these groups, which is the same as resampling the people."""
    changes: list[ColumnElement[Any]] = [
        func.coalesce(col(C.item_improvement)[item].as_integer(), 0) for item in SERVICE_USE.items
    ]
    befores = [
        func.sum(func.coalesce(col(C.item_before)[item].as_integer(), 0))
        for item in SERVICE_USE.items
    ]
    query = select(*changes, func.count(), *befores).where(
        col(C.instrument) == SERVICE_USE.code, col(C.latest), col(C.has_baseline)
    )
    conditions = filters.conditions()
    if conditions:
        query = query.join(M, col(M.referral_id) == col(C.referral_id)).where(*conditions)
    width = len(SERVICE_USE.items)
    return [
        (
            tuple(int(v) for v in row[:width]),
            int(row[width]),
            tuple(int(v or 0) for v in row[width + 1 :]),
        )
        for row in session.execute(query.group_by(*changes)).all()
    ]


def _referrals_in_period(session: Session, filters: ReportFilter) -> int:
    """Referrals received in the report's period, across the whole service."""
    period = ReportFilter(start=filters.start, end=filters.end)
    return int(session.execute(select(func.count()).where(*period.conditions()).select_from(M))
               .scalar_one())  # fmt: skip


def _programme_cost(filters: ReportFilter, inputs: RoiInputs) -> tuple[Decimal | None, str]:
    if inputs.programme_cost is not None:
        return inputs.programme_cost, "given with the report"
    per_year = inputs.settings.programme_cost_per_year
    if per_year is None:
        return None, "not given"
    if filters.start is None or filters.end is None:
        return None, "a yearly cost is set, but the report has no start and end to pro-rate it to"
    days = (filters.end - filters.start).days + 1
    return (
        per_year * days / YEAR_DAYS,
        f"SOCIALRX_REPORTS__ROI__PROGRAMME_COST_PER_YEAR x {days} days / 365",
    )


def _bootstrap(
    groups: list[tuple[tuple[int, ...], int, tuple[int, ...]]],
    costs: dict[str, Decimal | None],
    annualise: Decimal,
    for_people: Decimal,
    resamples: int,
    seed: int,
) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the return over resamples of the people.

    Drawing n people with replacement from the groups is a multinomial draw of n over the
    groups' shares, so each resample costs the number of groups, not of people.
    """
    unit = [float((costs[item] or 0) * annualise) for item in SERVICE_USE.items]
    avoided_each = np.array([sum(u * x for u, x in zip(unit, change, strict=True))
                             for change, _, _ in groups])  # fmt: skip
    # People whose changes cost the same are one group: a draw costs the number of groups.
    avoided_each, group = np.unique(avoided_each, return_inverse=True)
    counts = np.bincount(group, weights=[count for _, count, _ in groups])
    n = int(counts.sum())
    draws = np.random.default_rng(seed).multinomial(n, counts / counts.sum(), size=resamples)
    returns = 100.0 * (draws @ avoided_each) / float(for_people)
    low, high = np.percentile(returns, [2.5, 97.5])
    return float(low), float(high)


def roi_table(report: ReturnOnInvestment) -> Table:
    """The report as one long table: a figure per row, with which way is better for it."""
    fewer, more = "lower_is_better", "higher_is_better"
    rows: list[tuple[Any, ...]] = [
        ("people", "", report.people, "people", "", "" if report.people is not None else NOT_SHOWN)
    ]
    for i in report.items:
        rows += [
            ("contacts_before", i.item, i.contacts_before, "contacts", "", i.in_words),
            ("contacts_after", i.item, i.contacts_after, "contacts", fewer, i.in_words),
            ("change_pct", i.item, i.change_pct, "%", fewer, i.in_words),
            ("unit_cost", i.item, i.unit_cost, "GBP", "", i.unit_cost_source),
            ("annual_cost_change", i.item, i.annual_cost_change, "GBP a year", fewer,
             "after minus before; negative is a cost avoided"),
        ]  # fmt: skip
    rows += [
        ("nhs_cost_avoided", "", report.nhs_cost_avoided, "GBP a year", more, ""),
        ("referrals_in_period", "", report.referrals_in_period, "referrals", "", ""),
        ("programme_cost", "", report.programme_cost, "GBP", "", report.programme_cost_from),
        ("programme_cost_per_referral", "", report.programme_cost_per_referral, "GBP", "", ""),
        ("programme_cost_for_people", "", report.programme_cost_for_people, "GBP", "", ""),
        ("return_on_investment", "", report.roi_pence_per_pound, "pence per GBP 1", more,
         report.not_shown_because or ""),
        ("ci95_low", "", report.ci95_low_pence, "pence per GBP 1", more,
         f"bootstrap over people: {report.bootstrap_resamples} resamples, seed "
         f"{report.bootstrap_seed}"),
        ("ci95_high", "", report.ci95_high_pence, "pence per GBP 1", more, ""),
        *(("caveat", "", None, "", "", caveat) for caveat in report.caveats),
    ]  # fmt: skip
    return Table(("figure", "item", "value", "unit", "direction", "note"), frozenset(), rows)
