"""Commissioners' pages. For now: the reports' front page with the referral funnel."""

from fastapi import APIRouter, Request, Response

from api.access import COMMISSIONER
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from core.settings import Settings
from reports.filters import ReportFilter
from reports.funnel import funnel
from reports.small_numbers import Suppression
from reports.tables import TableName

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STAGE_WORDS = {
    "referred": "Referred",
    "contacted": "Contacted",
    "assessed": "Had the 'what matters' conversation",
    "connected": "Connected to a service",
    "took_up": "Started a service",
    "followed_up": "Followed up",
    "completed": "Completed",
}


@router.get("/reports")
def reports_page(request: Request, access: PageAccess) -> Response:
    role_or_404(access, COMMISSIONER)
    settings: Settings = request.app.state.settings
    # A page leaves the service as surely as a CSV does: small numbers are suppressed.
    small = Suppression(settings.reports.small_numbers)
    the_funnel = funnel(access.session, ReportFilter(), small)
    return render(
        request,
        "commissioner/reports.html",
        title="Reports",
        stages=[(STAGE_WORDS.get(stage.stage, stage.stage), stage) for stage in the_funnel.stages],
        threshold=small.threshold,
        tables=list(TableName),
    )
