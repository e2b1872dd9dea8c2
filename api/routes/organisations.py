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
from domain.enums import AssigneeKind, ServiceReferralStatus, TaskStatus
from domain.tables import ServiceReferral, Task

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
def list_organisation_tasks(
    organisation_id: str, session: SessionDep, access: AccessDep
) -> list[TaskOut]:
    access.own_organisation_or_404(organisation_id)
    tasks = session.exec(
        select(Task)
        .where(Task.assignee_kind == AssigneeKind.ORGANISATION)
        .where(Task.assignee_id == organisation_id)
        .where(Task.status == TaskStatus.OPEN)
        .order_by(col(Task.due_at).is_(None), col(Task.due_at), col(Task.id))
    ).all()
    access.log_all(task.referral_id for task in tasks)
    return [TaskOut.model_validate(task, from_attributes=True) for task in tasks]
