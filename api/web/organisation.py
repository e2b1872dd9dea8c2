"""Voluntary organisations' pages. For now: "Referrals to you", read only."""

from datetime import datetime

from fastapi import APIRouter, Request, Response
from sqlmodel import col, select

from api.access import ORGANISATION
from api.routes.organisations import list_service_referrals
from api.schemas import ServiceReferralOut
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from api.web.words import LONDON, SERVICE_REFERRAL_STATUS, due_tag
from catalogue.tables import Service
from domain.enums import ServiceReferralStatus

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def inbox_order(row: ServiceReferralOut) -> tuple[int, float]:
    """Waiting for an answer first, soonest reply due first; then accepted, waiting to
    start, oldest first; then the rest, newest first."""
    if row.status is ServiceReferralStatus.PENDING:
        return 0, row.respond_by.timestamp()
    if row.status is ServiceReferralStatus.ACCEPTED:
        return 1, row.sent_at.timestamp()
    return 2, -row.sent_at.timestamp()


@router.get("/organisation/referrals")
def referrals_to_you(request: Request, access: PageAccess) -> Response:
    role_or_404(access, ORGANISATION)
    session = access.session
    found = list_service_referrals(access.principal.organisation_id, session, access, None)
    service_ids = {row.service_id for row in found}
    service_names = dict(
        session.exec(select(Service.id, Service.name).where(col(Service.id).in_(service_ids))).all()
    )
    now = datetime.now(LONDON)
    rows = [
        {
            "referral": row,
            "service": service_names.get(row.service_id, row.service_id),
            "status": SERVICE_REFERRAL_STATUS[row.status],
            "reply_tag": due_tag(row.respond_by, now, now.date())
            if row.status is ServiceReferralStatus.PENDING
            else None,
        }
        for row in sorted(found, key=inbox_order)
    ]
    return render(request, "organisation/referrals.html", title="Referrals to you", rows=rows)
