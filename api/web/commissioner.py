"""Commissioners' pages: the reports with their filters, tables, charts and downloads, and
the access log, searchable.

The reports are those of the JSON API (``api.routes.reports``), from the same functions
(``reports.tables``, ``reports.charts``), always with the small-number suppression, as a
page leaves the service as surely as a CSV does. A commissioner scoped to an area sees its
practices only (``Access.reports_in_area``), in the figures and in the practice list. The
CSV downloads and the printable page are the API's own routes, which take the session
cookie; the links carry the filters. The access log reads with the query of ``GET /audit``.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.access import COMMISSIONER
from api.routes.audit import access_log_page
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from api.web.words import ACCESS_OUTCOME, LONDON
from catalogue.tables import Organization, TaxonomyTerm
from core.settings import Settings
from domain.tables import LinkWorkerTeam, Practice
from reports import charts
from reports.filters import ReportFilter
from reports.funnel import funnel
from reports.outcomes import outcomes
from reports.roi import RoiInputs, return_on_investment, roi_table
from reports.small_numbers import Suppression
from reports.tables import TABLES, Table, TableName
from reports.uptake import uptake
from reports.waits import waits

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TABLE_WORDS = {
    TableName.FUNNEL: ("How far people got", "Referrals reaching each stage"),
    TableName.CLOSURES: ("How referrals closed", "Closed referrals by reason"),
    TableName.OUTCOMES: ("Outcomes", "Change in the measures of people followed up"),
    TableName.WAITS: ("Waits", "Days to first contact, and for organisations to answer"),
    TableName.UPTAKE: ("Uptake", "People who started a service they were referred to"),
    TableName.PRACTICES: ("Volumes by practice", "Referrals from each GP practice"),
    TableName.CASELOAD: ("Caseloads", "Open referrals of each link worker"),
}
"""Each report's heading and caption, in the order the page shows them."""

CHART_OF = {
    TableName.FUNNEL: "funnel",
    TableName.OUTCOMES: "outcomes",
    TableName.WAITS: "waits",
    TableName.UPTAKE: "uptake",
}
CHART_ALT = {
    "funnel": "Bar chart of the referrals reaching each stage; the figures are in the table.",
    "outcomes": "Bar chart of the share of people with a positive change in each area; the "
    "figures are in the table.",
    "waits": "Bar chart of the median and 90th percentile waits in days; the figures are in "
    "the table.",
    "uptake": "Bar chart of uptake by category; the figures are in the table.",
    "roi": "Bar chart of the NHS cost avoided a year for each kind of contact; the figures are "
    "in the table.",
}
ROI_WORDS = (
    "What the service saves the NHS",
    "NHS contacts before and after, their cost a year, and the return on investment",
)
DATE_PARTS = ("day", "month", "year")
ACCESS_LOG_PER_PAGE = 50


def _suppression(request: Request) -> Suppression:
    settings: Settings = request.app.state.settings
    return Suppression(settings.reports.small_numbers)


def _roi_inputs(request: Request) -> RoiInputs:
    """The page has no programme cost box: the yearly cost setting, over the chosen period."""
    settings: Settings = request.app.state.settings
    return RoiInputs(settings=settings.reports.roi)


def _table_view(
    name: str, words: tuple[str, str], table: Table, chart: str | None
) -> dict[str, Any]:
    heading, caption = words
    return {
        "name": name,
        "heading": heading,
        "caption": caption,
        "columns": [column.replace("_", " ") for column in table.columns],
        "numeric": [column in table.count_columns for column in table.columns],
        "rows": [
            [
                "not shown"
                if value is None and column in table.count_columns
                else table.cell(column, value)
                for column, value in zip(table.columns, row, strict=True)
            ]
            for row in table.rows
        ],
        "chart": chart,
    }


def _date_from(name: str, words: str, parts: dict[str, str], errors: dict[str, str]) -> date | None:
    """A date from its three boxes; all empty is no date; else an error for ``name``."""
    day, month, year = (parts.get(f"{name}[{part}]", "").strip() for part in DATE_PARTS)
    if not (day or month or year):
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        errors[f"{name}-day"] = f"{words} must be a real date, for example 1 4 2026"
        return None


def report_filter(
    query: dict[str, str], errors: dict[str, str]
) -> tuple[ReportFilter, dict[str, str]]:
    """The filters a GET form sent, checked as the JSON API checks them, and the query
    string for the links that carry them (CSV, printable page, charts)."""
    fields: dict[str, Any] = {
        "start": _date_from("start", "The start date", query, errors),
        "end": _date_from("end", "The end date", query, errors),
    }
    for name in ("practice", "team", "organisation", "category"):
        if query.get(name):
            fields[name] = query[name]
    try:
        filters = ReportFilter.model_validate(fields)
    except ValidationError as error:
        for issue in error.errors():
            where = str(issue["loc"][0]) if issue["loc"] else "end"
            field = f"{where}-day" if where in ("start", "end") else where
            errors[field] = (
                "The end date must be the same as or after the start date"
                if not issue["loc"]
                else f"Choose a {where} from the list"
            )
        filters = ReportFilter()
    return filters, filters.as_params()


def _choices(session: Session, area: frozenset[str] | None) -> dict[str, list[tuple[str, str]]]:
    in_area = select(Practice.ods_code, Practice.name).order_by(Practice.name)
    if area is not None:
        in_area = in_area.where(col(Practice.ods_code).in_(sorted(area)))
    practices = session.exec(in_area)
    organisations = session.exec(
        select(Organization.id, Organization.name).order_by(Organization.name)
    )
    needs = session.exec(
        select(TaxonomyTerm.code, TaxonomyTerm.name)
        .where(col(TaxonomyTerm.code).is_not(None))
        .order_by(TaxonomyTerm.name)
    )
    teams = session.exec(
        select(LinkWorkerTeam.id, LinkWorkerTeam.name).order_by(LinkWorkerTeam.name)
    )
    return {
        "team": [(str(code), name) for code, name in teams.all()],
        "practice": [(str(code), name) for code, name in practices.all()],
        "organisation": [(str(code), name) for code, name in organisations.all()],
        "category": [(str(code), name) for code, name in needs.all()],
    }


@router.get("/reports")
def reports_page(request: Request, access: PageAccess) -> Response:
    role_or_404(access, COMMISSIONER)
    query = dict(request.query_params)
    errors: dict[str, str] = {}
    filters, params = report_filter(query, errors)
    filters = access.reports_in_area(filters)
    small = _suppression(request)
    session = access.session
    tables = [
        _table_view(name.value, words, TABLES[name](session, filters, small), CHART_OF.get(name))
        for name, words in TABLE_WORDS.items()
    ]
    roi = return_on_investment(session, filters, small, _roi_inputs(request))
    tables.append(_table_view("roi", ROI_WORDS, roi_table(roi), "roi"))
    suffix = f"?{urlencode(params)}" if params else ""
    return render(
        request,
        "commissioner/reports.html",
        status_code=status.HTTP_400_BAD_REQUEST if errors else 200,
        title="Reports",
        errors=errors,
        query=query,
        choices=_choices(session, access.practices_in_area()),
        tables=tables,
        threshold=small.threshold,
        suffix=suffix,
        chart_alt=CHART_ALT,
    )


@router.get("/reports/charts/{chart}.svg")
def report_chart(request: Request, access: PageAccess, chart: str) -> Response:
    """A report's chart as an image, with the page's filters; the table beside it on the
    page holds the same figures."""
    role_or_404(access, COMMISSIONER)
    errors: dict[str, str] = {}
    filters, _ = report_filter(dict(request.query_params), errors)
    if errors or chart not in CHART_ALT:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    filters = access.reports_in_area(filters)
    small = _suppression(request)
    session = access.session
    svg = {
        "funnel": lambda: charts.funnel_chart(funnel(session, filters, small)),
        "outcomes": lambda: charts.outcome_chart(outcomes(session, filters, small)),
        "waits": lambda: charts.waits_chart(waits(session, filters, small)),
        "uptake": lambda: charts.uptake_chart(uptake(session, filters, small)),
        "roi": lambda: charts.roi_chart(
            return_on_investment(session, filters, small, _roi_inputs(request))
        ),
    }[chart]()
    return Response(svg, media_type="image/svg+xml")


@router.get("/reports/access-log")
def access_log(
    request: Request,
    access: PageAccess,
    user: Annotated[str, Query(max_length=64)] = "",
    referral: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    role_or_404(access, COMMISSIONER)
    query = dict(request.query_params)
    errors: dict[str, str] = {}
    referral_id: UUID | None = None
    if referral.strip():
        try:
            referral_id = UUID(referral.strip())
        except ValueError:
            errors["referral"] = (
                "Enter the referral's reference as it is shown, for example "
                "3f2b8c1e-0d4a-4b7e-9a61-2c5d8e7f1a90"
            )
    on = _date_from("on", "The date", query, errors)
    since = before = None
    if on is not None:
        since = datetime.combine(on, time(), LONDON).astimezone(UTC)
        before = datetime.combine(on + timedelta(days=1), time(), LONDON).astimezone(UTC)
    found = None
    pages = 1
    if not errors:
        found = access_log_page(
            access,
            referral_id,
            user.strip() or None,
            since,
            page,
            ACCESS_LOG_PER_PAGE,
            before=before,
        )
        pages = max(1, -(-found.total_items // ACCESS_LOG_PER_PAGE))
    others = {key: value for key, value in query.items() if key != "page"}
    return render(
        request,
        "commissioner/access_log.html",
        status_code=status.HTTP_400_BAD_REQUEST if errors else 200,
        title="Access log",
        outcome_words=ACCESS_OUTCOME,
        errors=errors,
        query=query,
        found=found,
        page=page,
        pages=pages,
        page_link=lambda number: "?" + urlencode(others | {"page": number}),
    )
