"""The printable commissioner report: key figures, four charts and small tables on one A4
page; what the service saves (return on investment) with its chart on a second."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache
from typing import TypeVar

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from reports.charts import funnel_chart, outcome_chart, roi_chart, uptake_chart, waits_chart
from reports.filters import ReportFilter
from reports.funnel import Closures, Funnel, closures, funnel
from reports.outcomes import Outcomes, outcomes
from reports.roi import ITEM_LABELS, ReturnOnInvestment, RoiInputs, return_on_investment
from reports.small_numbers import HIDDEN, Suppression
from reports.uptake import Uptake, uptake
from reports.waits import Waits, waits

T = TypeVar("T")
# The page's reports run side by side, the others beside the request's own session each on a
# connection of its own: the page then costs about its slowest report rather than the sum of
# them. Two more connections a page at most, so a few people printing cannot empty the pool.
EXTRA_CONNECTIONS = 2


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


class PageReports(BaseModel):
    """The reports the page shows, suppressed: what a snapshot stores (reports/snapshots.py)."""

    funnel: Funnel
    closures: Closures
    outcomes: Outcomes
    waits: Waits
    uptake: Uptake
    roi: ReturnOnInvestment


def page_reports(
    session: Session, filters: ReportFilter, small: Suppression, roi_inputs: RoiInputs
) -> PageReports:
    """The page's reports computed now."""
    with ThreadPoolExecutor(max_workers=EXTRA_CONNECTIONS) as pool:
        # The slowest reports first, so the cheap ones fill in behind them.
        outcomes_later = _beside(pool, session, lambda s: outcomes(s, filters, small))
        roi_later = _beside(
            pool, session, lambda s: return_on_investment(s, filters, small, roi_inputs)
        )
        uptake_later = _beside(pool, session, lambda s: uptake(s, filters, small))
        the_waits = waits(session, filters, small)
        the_funnel = funnel(session, filters, small)
        the_closures = closures(session, filters, small)
        return PageReports(
            funnel=the_funnel,
            closures=the_closures,
            outcomes=outcomes_later.result(),
            waits=the_waits,
            uptake=uptake_later.result(),
            roi=roi_later.result(),
        )


def commissioner_page(
    session: Session, filters: ReportFilter, small: Suppression, roi_inputs: RoiInputs
) -> str:
    """The page with its figures computed now (the API serves a snapshot: reports/snapshots.py).
    Always suppressed: the page is made to be printed and shared."""
    computed_at = datetime.now(UTC)
    return render_page(
        page_reports(session, filters, small, roi_inputs), filters, small, computed_at
    )


def render_page(
    reports: PageReports, filters: ReportFilter, small: Suppression, computed_at: datetime
) -> str:
    """The page of these reports, saying when their figures were computed."""
    return (
        _templates()
        .get_template("commissioner.html")
        .render(
            filters=filters.as_params(),
            computed_at=computed_at.astimezone(UTC).strftime("%d %B %Y %H:%M UTC"),
            threshold=small.threshold,
            hidden=HIDDEN,
            funnel=reports.funnel,
            outcomes=reports.outcomes,
            waits=reports.waits,
            uptake=reports.uptake,
            closures=reports.closures,
            roi=reports.roi,
            labels=ITEM_LABELS,
            charts={
                "funnel": funnel_chart(reports.funnel),
                "waits": waits_chart(reports.waits),
                "uptake": uptake_chart(reports.uptake),
                "outcomes": outcome_chart(reports.outcomes),
                "roi": roi_chart(reports.roi),
            },
        )
    )


def _beside(
    pool: ThreadPoolExecutor, session: Session, report: Callable[[Session], T]
) -> Future[T]:
    """``report`` computed in another thread with a session of its own (a session is never
    shared between threads); in the caller's session when the database is in memory, where
    another thread's connection would be another, empty, database."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    if engine.url.database in (None, "", ":memory:"):
        done: Future[T] = Future()
        done.set_result(report(session))
        return done
    return pool.submit(_in_own_session, engine, report)


def _in_own_session(engine: Engine, report: Callable[[Session], T]) -> T:
    with Session(engine) as session:
        return report(session)
