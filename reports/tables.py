"""Every report as flat tables: what the CSV export writes and the HTML page lists."""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from reports.filters import ReportFilter
from reports.funnel import closures, funnel
from reports.outcomes import MeanChange, outcomes
from reports.small_numbers import HIDDEN, Suppression
from reports.uptake import uptake
from reports.volumes import volumes
from reports.waits import waits

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet takes as the start of a formula (OWASP's CSV injection list)."""


def spreadsheet_text(text: str) -> str:
    """Text a spreadsheet would run as a formula, with a leading apostrophe, which makes it
    plain text: names come from the directory, which any organisation may edit."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class TableName(StrEnum):
    FUNNEL = "funnel"
    CLOSURES = "closures"
    OUTCOMES = "outcomes"
    WAITS = "waits"
    UPTAKE = "uptake"
    PRACTICES = "practices"
    CASELOAD = "caseload"


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    count_columns: frozenset[str]
    """None in these columns is a suppressed count, shown as ``HIDDEN``."""
    rows: list[tuple[Any, ...]]

    def cell(self, column: str, value: Any) -> str:
        if value is None:
            return HIDDEN if column in self.count_columns else ""
        return str(value)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        for row in self.rows:
            # Only text is neutralised: a negative number ("-0.4") is a number, not a formula.
            writer.writerow(
                [
                    spreadsheet_text(v) if isinstance(v, str) else self.cell(c, v)
                    for c, v in zip(self.columns, row, strict=True)
                ]
            )
        return out.getvalue()


def _table(columns: str, counts: str, rows: list[tuple[Any, ...]]) -> Table:
    return Table(tuple(columns.split()), frozenset(counts.split()), rows)


def _funnel(session: Session, filters: ReportFilter, small: Suppression) -> Table:
    report = funnel(session, filters, small)
    return _table(
        "stage count conversion_pct of_referred_pct",
        "count",
        [(s.stage, s.count, s.conversion_pct, s.of_referred_pct) for s in report.stages],
    )


def _closures(session: Session, filters: ReportFilter, small: Suppression) -> Table:
    report = closures(session, filters, small)
    rows = [(r.reason, r.count, r.pct) for r in report.reasons]
    return _table("reason count pct", "count", [*rows, ("still_open", report.still_open, None)])


def _mean(measure: str, item: str, change: MeanChange) -> tuple[Any, ...]:
    return (
        measure,
        item,
        change.people,
        change.meaningful,
        change.meaningful_pct,
        change.mean_change,
        change.ci95_low,
        change.ci95_high,
        change.direction,
        change.in_words,
    )


def _outcomes(session: Session, filters: ReportFilter, small: Suppression) -> Table:
    r = outcomes(session, filters, small)
    coverage, positive, use = r.follow_up, r.positive_change, r.service_use
    # Each row says which way is better for its measure, and its change in words.
    star = positive.direction
    rows: list[tuple[Any, ...]] = [
        ("followed_up", "of_eligible", coverage.eligible, coverage.followed_up,
         coverage.followed_up_pct, None, None, None, "higher_is_better", ""),
        ("positive_change", "any_area", positive.people, positive.improved_any_area,
         positive.improved_any_area_pct, None, None, None, star, ""),
        *(("positive_change", a.area, positive.people, a.improved, a.improved_pct,
           None, None, None, star, "") for a in positive.areas),
        _mean("swemwbs", "metric_score", r.swemwbs),
        *(("ons4", i.item, i.people, None, i.improved_pct, i.mean_change, None, None,
           i.direction, i.in_words) for i in r.ons4),
        _mean("loneliness_ucla3", "total", r.loneliness),
        ("service_use", "all_contacts", use.people, use.contacts_after, use.change_pct,
         None, None, None, use.direction, use.in_words),
        *(("service_use", i.item, i.people, None, i.improved_pct, i.mean_change, None, None,
           i.direction, i.in_words) for i in use.items),
    ]  # fmt: skip
    return _table(
        "measure item people count pct mean_change ci95_low ci95_high direction in_words",
        "people count",
        rows,
    )


def _waits(session: Session, filters: ReportFilter, small: Suppression) -> Table:
    report = waits(session, filters, small)
    first = report.first_contact
    rows: list[tuple[Any, ...]] = [
        ("first_contact", "", "", first.people, first.median_days, first.p90_days)
    ]
    rows += [
        ("organisation_response", o.organisation_id, o.organisation_name, o.people,
         o.median_days, o.p90_days)
        for o in report.organisation_response
    ]  # fmt: skip
    return _table("wait organisation_id organisation_name people median_days p90_days",
                  "people", rows)  # fmt: skip


def _uptake(session: Session, filters: ReportFilter, small: Suppression) -> Table:
    report = uptake(session, filters, small)
    rows = [
        (dimension, row.id, row.name, row.sent, row.started, row.uptake_pct)
        for dimension, group in (
            ("service", report.by_service),
            ("category", report.by_category),
            ("organisation", report.by_organisation),
        )
        for row in group
    ]
    return _table("by id name sent started uptake_pct", "sent started", rows)


def _practices(session: Session, filters: ReportFilter, small: Suppression) -> Table:
    report = volumes(session, filters, small)
    return _table(
        "practice_ods practice_name referred completed_pct",
        "referred",
        [
            (p.practice_ods, p.practice_name, p.referred, p.completed_pct)
            for p in report.by_practice
        ],
    )


def _caseload(session: Session, filters: ReportFilter, small: Suppression) -> Table:
    report = volumes(session, filters, small)
    return _table(
        "link_worker_id link_worker_name open total",
        "open total",
        [(c.link_worker_id, c.link_worker_name, c.open, c.total) for c in report.caseload],
    )


TABLES: dict[TableName, Callable[[Session, ReportFilter, Suppression], Table]] = {
    TableName.FUNNEL: _funnel,
    TableName.CLOSURES: _closures,
    TableName.OUTCOMES: _outcomes,
    TableName.WAITS: _waits,
    TableName.UPTAKE: _uptake,
    TableName.PRACTICES: _practices,
    TableName.CASELOAD: _caseload,
}
