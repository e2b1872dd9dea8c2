"""``/organisations/{id}/...``: an organisation's own lists. Its steps are under
``/service-referrals`` (``api.routes.service_referrals``)."""

from fastapi import APIRouter, Query
from sqlmodel import col, select

from api.access import AccessDep
from api.deps import SessionDep
from api.errors import VISIBLE
from api.schemas import (
    ServiceReferralOut,
    TaskOut,
)
from api.task_lists import task_list
from domain.enums import AssigneeKind, ServiceReferralStatus, TaskStatus
from domain.tables import ServiceReferral

router = APIRouter(prefix="/organisations", tags=["organisations"])


@router.get(
    "/{organisation_id}/service-referrals",
    responses=VISIBLE,
    response_model=list[ServiceReferralOut],
    summary="Referrals sent to this organisation's services",
)
def list_service_referrals(
    organisation_id: str,
    session: SessionDep,
    access: AccessDep,
    referral_status: ServiceReferralStatus | None = Query(default=None, alias="status"),
) -> list[ServiceReferralOut]:
    access.own_organisation_or_404(organisation_id)
    query = select(ServiceReferral).where(ServiceReferral.organisation_id == organisation_id)
    if referral_status is not None:
        query = query.where(ServiceReferral.status == referral_status)
    rows = session.exec(query.order_by(col(ServiceReferral.sent_at))).all()
    access.log_all(row.referral_id for row in rows)
    return [ServiceReferralOut.model_validate(row, from_attributes=True) for row in rows]


@router.get(
    "/{organisation_id}/tasks",
    responses=VISIBLE,
    response_model=list[TaskOut],
    summary="This organisation's open tasks, soonest due first",
)
def list_organisation_tasks(organisation_id: str, access: AccessDep) -> list[TaskOut]:
    access.own_organisation_or_404(organisation_id)
    return task_list(access, organisation_id, [AssigneeKind.ORGANISATION], TaskStatus.OPEN)
