"""The one-page printable commissioner report: key figures, four charts, small tables."""

from datetime import UTC, datetime
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import Session

from reports.charts import funnel_chart, outcome_chart, uptake_chart, waits_chart
from reports.filters import ReportFilter
from reports.funnel import closures, funnel
from reports.outcomes import outcomes
from reports.small_numbers import HIDDEN, Suppression
from reports.uptake import uptake
from reports.waits import waits


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def commissioner_page(session: Session, filters: ReportFilter, small: Suppression) -> str:
    """Always suppressed: the page is made to be printed and shared."""
    the_funnel = funnel(session, filters, small)
    the_outcomes = outcomes(session, filters, small)
    the_waits = waits(session, filters, small)
    the_uptake = uptake(session, filters, small)
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
            closures=closures(session, filters, small),
            charts={
                "funnel": funnel_chart(the_funnel),
                "waits": waits_chart(the_waits),
                "uptake": uptake_chart(the_uptake),
                "outcomes": outcome_chart(the_outcomes),
            },
        )
    )
