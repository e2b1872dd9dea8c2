"""The printable commissioner report: key figures, four charts and small tables on one A4
page; what the service saves (return on investment) with its chart on a second."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache
from typing import TypeVar

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine
from sqlmodel import Session

from reports.charts import funnel_chart, outcome_chart, roi_chart, uptake_chart, waits_chart
from reports.filters import ReportFilter
from reports.funnel import closures, funnel
from reports.outcomes import outcomes
from reports.roi import ITEM_LABELS, RoiInputs, return_on_investment
from reports.small_numbers import HIDDEN, Suppression
from reports.uptake import uptake
from reports.waits import waits

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


def commissioner_page(
    session: Session, filters: ReportFilter, small: Suppression, roi_inputs: RoiInputs
) -> str:
    """Always suppressed: the page is made to be printed and shared."""
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
        the_outcomes, the_roi = outcomes_later.result(), roi_later.result()
        the_uptake = uptake_later.result()
    return (
        _templates()
        .get_template("commissioner.html")
        .render(
            filters=filters.as_params(),
            generated=datetime.now(UTC).strftime("%d %B %Y %H:%M UTC"),
            threshold=small.threshold,
            hidden=HIDDEN,
            funnel=the_funnel,
            outcomes=the_outcomes,
            waits=the_waits,
            uptake=the_uptake,
            closures=the_closures,
            roi=the_roi,
            labels=ITEM_LABELS,
            charts={
                "funnel": funnel_chart(the_funnel),
                "waits": waits_chart(the_waits),
                "uptake": uptake_chart(the_uptake),
                "outcomes": outcome_chart(the_outcomes),
                "roi": roi_chart(the_roi),
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
