"""Reports for commissioners: JSON, CSV export and a printable one-page HTML report.

Every report takes the same filters (period, practice, team, organisation, category) and
reads the read model only. Small numbers are suppressed in everything that leaves the
service: CSV and HTML always, JSON unless the caller asks for ``internal=true`` (the
unsuppressed figures, for the service's own analysis; they must not be published).
Anyone but a commissioner gets 404, as if the reports did not exist. A commissioner scoped
to an area sees its practices' referrals only, and 404 for a practice filter outside it.
"""

from decimal import Decimal
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse

from api.access import AccessDep, BrowserAccessDep, commissioner_in_browser, commissioner_only
from api.deps import SessionDep, SettingsDep
from api.errors import VISIBLE
from core.settings import Settings
from reports.filters import ReportFilter
from reports.funnel import Closures, Funnel, closures, funnel
from reports.outcomes import Outcomes, outcomes
from reports.roi import ReturnOnInvestment, RoiInputs, return_on_investment, roi_table
from reports.small_numbers import NONE, Suppression
from reports.snapshots import printable_page
from reports.tables import TABLES, TableName
from reports.uptake import Uptake, uptake
from reports.volumes import Volumes, volumes
from reports.waits import Waits, waits

# 404, not 403: to anyone else the reports do not exist. Published reports hold no patient
# data, so reading one is not written to the access log; the unsuppressed internal figures
# can single people out, so reading those is.
router = APIRouter(prefix="/reports", tags=["reports"], responses=VISIBLE)
# The JSON reports take a bearer token or an API key; the printable page and the CSV files,
# which the commissioner's pages link to, take the session cookie too.
report = partial(router.get, dependencies=[Depends(commissioner_only)])
download = partial(router.get, dependencies=[Depends(commissioner_in_browser)])


def filters_in_area(filters: Annotated[ReportFilter, Query()], access: AccessDep) -> ReportFilter:
    """The filters asked for, within the commissioner's area (``Access.reports_in_area``).
    A plain ``def``: it reads the area from the database, so not on the event loop."""
    return access.reports_in_area(filters)


def download_filters_in_area(
    filters: Annotated[ReportFilter, Query()], access: BrowserAccessDep
) -> ReportFilter:
    """``filters_in_area`` for the downloads the commissioner's pages link to."""
    return access.reports_in_area(filters)


Filters = Annotated[ReportFilter, Depends(filters_in_area)]
DownloadFilters = Annotated[ReportFilter, Depends(download_filters_in_area)]


def _published(settings: Settings) -> Suppression:
    return Suppression(settings.reports.small_numbers)


def suppression(
    settings: SettingsDep,
    access: AccessDep,
    internal: Annotated[
        bool,
        Query(description="Unsuppressed figures for the service's own use; never publish."),
    ] = False,
) -> Suppression:
    if internal:
        access.log()
        return NONE
    return _published(settings)


SuppressionDep = Annotated[Suppression, Depends(suppression)]


def roi_inputs(
    settings: SettingsDep,
    programme_cost: Annotated[
        Decimal | None,
        Query(
            ge=0,
            max_digits=14,
            decimal_places=2,
            description="Pounds the whole programme cost over the report's period (start to "
            "end); else SOCIALRX_REPORTS__ROI__PROGRAMME_COST_PER_YEAR, pro-rated.",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        Query(ge=0, description="The bootstrap's seed; the same seed gives the same interval."),
    ] = None,
) -> RoiInputs:
    return RoiInputs(settings=settings.reports.roi, programme_cost=programme_cost, seed=seed)


RoiInputsDep = Annotated[RoiInputs, Depends(roi_inputs)]


@report("/funnel", response_model=Funnel, summary="Referred → completed, with conversions")
def funnel_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Funnel:
    return funnel(session, filters, small)


@report("/closures", response_model=Closures, summary="How referrals closed")
def closures_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Closures:
    return closures(session, filters, small)


@report("/outcomes", response_model=Outcomes, summary="Outcome change of people followed up")
def outcomes_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Outcomes:
    return outcomes(session, filters, small)


@report("/waits", response_model=Waits, summary="Time to first contact; organisation answers")
def waits_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Waits:
    return waits(session, filters, small)


@report("/uptake", response_model=Uptake, summary="Uptake by service, category, organisation")
def uptake_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Uptake:
    return uptake(session, filters, small)


@report("/volumes", response_model=Volumes, summary="Volumes by practice; caseloads")
def volumes_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Volumes:
    return volumes(session, filters, small)


@report(
    "/roi",
    response_model=ReturnOnInvestment,
    summary="NHS cost avoided against the programme's cost, pence per pound, with its interval",
)
def roi_report(
    session: SessionDep, filters: Filters, small: SuppressionDep, inputs: RoiInputsDep
) -> ReturnOnInvestment:
    return return_on_investment(session, filters, small, inputs)


@download(
    "/commissioner.html",
    response_class=HTMLResponse,
    response_model=None,
    summary="One printable page: key figures and charts (always suppressed), from a snapshot "
    "while no new step was applied and it is younger than SOCIALRX_REPORTS__SNAPSHOT_MAX_AGE",
)
def commissioner_report(
    session: SessionDep, settings: SettingsDep, filters: DownloadFilters, inputs: RoiInputsDep
) -> HTMLResponse:
    small, max_age = _published(settings), settings.reports.snapshot_max_age
    return HTMLResponse(printable_page(session, filters, small, inputs, max_age))


def _csv(text: str, name: str) -> Response:
    return Response(
        # A byte-order mark makes spreadsheet programs read the file as UTF-8.
        content="\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="socialrx-{name}.csv"'},
    )


# Before /{table}.csv, which would otherwise take "roi" and refuse it as no table it knows.
@download(
    "/roi.csv",
    response_class=Response,
    response_model=None,
    responses={200: {"content": {"text/csv": {}}, "description": "The report as CSV."}},
    summary="Return on investment as CSV, one figure a row (always suppressed)",
)
def roi_csv_report(
    session: SessionDep, settings: SettingsDep, filters: DownloadFilters, inputs: RoiInputsDep
) -> Response:
    small = _published(settings)
    report = return_on_investment(session, filters, small, inputs)
    return _csv(roi_table(report).to_csv(), "roi")


@download(
    "/{table}.csv",
    response_class=Response,
    response_model=None,
    responses={200: {"content": {"text/csv": {}}, "description": "One report as CSV."}},
    summary="A report as CSV for spreadsheets (always suppressed)",
)
def csv_report(
    table: TableName,
    session: SessionDep,
    settings: SettingsDep,
    filters: DownloadFilters,
) -> Response:
    small = _published(settings)
    return _csv(TABLES[table](session, filters, small).to_csv(), table.value)
