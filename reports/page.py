"""The printable commissioner report: key figures, four charts and small tables on one A4
page; what the service saves (return on investment) with its chart on a second."""

from datetime import UTC, datetime
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import Session

from reports.charts import funnel_chart, outcome_chart, roi_chart, uptake_chart, waits_chart
from reports.filters import ReportFilter
from reports.funnel import closures, funnel
from reports.outcomes import outcomes
from reports.roi import ITEM_LABELS, RoiInputs, return_on_investment
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


def commissioner_page(
    session: Session, filters: ReportFilter, small: Suppression, roi_inputs: RoiInputs
) -> str:
    """Always suppressed: the page is made to be printed and shared."""
    the_roi = return_on_investment(session, filters, small, roi_inputs)
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
