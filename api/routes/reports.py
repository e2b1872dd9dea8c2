"""Reports for commissioners: JSON, CSV export and a printable one-page HTML report.

Every report takes the same filters (period, practice, team, organisation, category) and
reads the read model only. Small numbers are suppressed in everything that leaves the
service: CSV and HTML always, JSON unless the caller asks for ``internal=true`` (the
unsuppressed figures, for the service's own analysis; they must not be published).
Anyone but a commissioner gets 404, as if the reports did not exist.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse

from api.access import commissioner_only
from api.deps import SessionDep, SettingsDep
from api.errors import VISIBLE
from core.settings import Settings
from reports.filters import ReportFilter
from reports.funnel import Closures, Funnel, closures, funnel
from reports.outcomes import Outcomes, outcomes
from reports.page import commissioner_page
from reports.small_numbers import NONE, Suppression
from reports.tables import TABLES, TableName
from reports.uptake import Uptake, uptake
from reports.volumes import Volumes, volumes
from reports.waits import Waits, waits

# 404, not 403: to anyone else the reports do not exist. Reports hold no patient data, so,
# like the access log itself, reading one is not written to the access log.
router = APIRouter(
    prefix="/reports",
    tags=["reports"],
    dependencies=[Depends(commissioner_only)],
    responses=VISIBLE,
)


Filters = Annotated[ReportFilter, Query()]


def _published(settings: Settings) -> Suppression:
    return Suppression(settings.reports.small_numbers)


def suppression(
    settings: SettingsDep,
    internal: Annotated[
        bool,
        Query(description="Unsuppressed figures for the service's own use; never publish."),
    ] = False,
) -> Suppression:
    return NONE if internal else _published(settings)


SuppressionDep = Annotated[Suppression, Depends(suppression)]


@router.get("/funnel", response_model=Funnel, summary="Referred → completed, with conversions")
def funnel_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Funnel:
    return funnel(session, filters, small)


@router.get("/closures", response_model=Closures, summary="How referrals closed")
def closures_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Closures:
    return closures(session, filters, small)


@router.get("/outcomes", response_model=Outcomes, summary="Outcome change of people followed up")
def outcomes_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Outcomes:
    return outcomes(session, filters, small)


@router.get("/waits", response_model=Waits, summary="Time to first contact; organisation answers")
def waits_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Waits:
    return waits(session, filters, small)


@router.get("/uptake", response_model=Uptake, summary="Uptake by service, category, organisation")
def uptake_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Uptake:
    return uptake(session, filters, small)


@router.get("/volumes", response_model=Volumes, summary="Volumes by practice; caseloads")
def volumes_report(session: SessionDep, filters: Filters, small: SuppressionDep) -> Volumes:
    return volumes(session, filters, small)


@router.get(
    "/commissioner.html",
    response_class=HTMLResponse,
    response_model=None,
    summary="One printable page: key figures and charts (always suppressed)",
)
def commissioner_report(
    session: SessionDep, settings: SettingsDep, filters: Filters
) -> HTMLResponse:
    return HTMLResponse(commissioner_page(session, filters, _published(settings)))


@router.get(
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
    filters: Filters,
) -> Response:
    small = _published(settings)
    text = TABLES[table](session, filters, small).to_csv()
    return Response(
        # A byte-order mark makes spreadsheet programs read the file as UTF-8.
        content="\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="socialrx-{table.value}.csv"'},
    )
