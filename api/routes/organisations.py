"""``/organisations/{id}/...``: an organisation's own lists, a page at a time. Its steps are
under ``/service-referrals`` (``api.routes.service_referrals``)."""

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from api.access import Access, AccessDep
from api.deps import SessionDep
from api.errors import VISIBLE
from api.paging import Listed, Window, WindowDep, page_headers
from api.schemas import (
    ServiceReferralOut,
    TaskOut,
)
from api.task_lists import task_list
from domain.enums import AssigneeKind, ServiceReferralStatus, TaskStatus
from domain.tables import ServiceReferral

router = APIRouter(prefix="/organisations", tags=["organisations"])

_STATUS = col(ServiceReferral.status)
_SENT_AT = col(ServiceReferral.sent_at)
_WAITING = case(
    (_STATUS == ServiceReferralStatus.PENDING, 0),
    (_STATUS == ServiceReferralStatus.ACCEPTED, 1),
    else_=2,
)
INBOX_ORDER = (
    _WAITING,
    # Waiting for an answer: the soonest reply due first; accepted, waiting to start: the
    # oldest first; the rest (answered, over) newest first.
    case(
        (_STATUS == ServiceReferralStatus.PENDING, col(ServiceReferral.respond_by)),
        (_STATUS == ServiceReferralStatus.ACCEPTED, _SENT_AT),
    ),
    _SENT_AT.desc(),
    col(ServiceReferral.id),
)


def service_referrals_of(
    session: Session,
    access: Access,
    organisation_id: str,
    status: ServiceReferralStatus | None,
    shown: Window,
) -> Listed[ServiceReferralOut]:
    """One page of the service referrals to an organisation's services, in inbox order; the
    caller's right to them is checked first, and the read is logged."""
    access.own_organisation_or_404(organisation_id)
    whose = [ServiceReferral.organisation_id == organisation_id]
    if status is not None:
        whose.append(ServiceReferral.status == status)
    total = session.exec(select(func.count()).select_from(ServiceReferral).where(*whose)).one()
    rows = session.exec(
        select(ServiceReferral)
        .where(*whose)
        .order_by(*INBOX_ORDER)
        .offset(shown.offset)
        .limit(shown.limit)
    ).all()
    access.log_all(row.referral_id for row in rows)
    items = [ServiceReferralOut.model_validate(row, from_attributes=True) for row in rows]
    return Listed(items, total)


@router.get(
    "/{organisation_id}/service-referrals",
    responses=VISIBLE,
    response_model=list[ServiceReferralOut],
    summary="Referrals sent to this organisation's services: waiting for an answer first "
    "(soonest reply due first), then accepted (oldest first), then the rest (newest first); "
    "a page at a time (limit, offset)",
)
def list_service_referrals(
    organisation_id: str,
    session: SessionDep,
    access: AccessDep,
    request: Request,
    response: Response,
    shown: WindowDep,
    referral_status: ServiceReferralStatus | None = Query(default=None, alias="status"),
) -> list[ServiceReferralOut]:
    listed = service_referrals_of(session, access, organisation_id, referral_status, shown)
    page_headers(request, response, shown, listed.total)
    return listed.items


@router.get(
    "/{organisation_id}/tasks",
    responses=VISIBLE,
    response_model=list[TaskOut],
    summary="This organisation's open tasks, soonest due first, a page at a time",
)
def list_organisation_tasks(
    organisation_id: str,
    access: AccessDep,
    request: Request,
    response: Response,
    shown: WindowDep,
) -> list[TaskOut]:
    access.own_organisation_or_404(organisation_id)
    listed = task_list(access, organisation_id, [AssigneeKind.ORGANISATION], TaskStatus.OPEN, shown)
    page_headers(request, response, shown, listed.total)
    return listed.items
