"""``/link-workers/{id}/tasks``: a link worker's task list. Their steps are under
``/referrals`` (``api.routes.referrals``)."""

from fastapi import APIRouter, Query
from sqlmodel import col, select

from api.access import AccessDep
from api.deps import SessionDep
from api.errors import VISIBLE
from api.schemas import (
    TaskOut,
)
from domain.enums import AssigneeKind, TaskStatus
from domain.tables import Task

router = APIRouter(prefix="/link-workers", tags=["link workers"])


@router.get(
    "/{link_worker_id}/tasks",
    responses=VISIBLE,
    response_model=list[TaskOut],
    summary="A link worker's tasks, soonest due first",
)
def list_tasks(
    link_worker_id: str,
    session: SessionDep,
    access: AccessDep,
    task_status: TaskStatus = Query(default=TaskStatus.OPEN, alias="status"),
) -> list[TaskOut]:
    worker = access.team_link_worker_or_404(link_worker_id)
    kinds = [AssigneeKind.LINK_WORKER] + ([AssigneeKind.TEAM_LEAD] if worker.is_team_lead else [])
    tasks = session.exec(
        select(Task)
        .where(Task.assignee_id == link_worker_id)
        .where(col(Task.assignee_kind).in_(kinds))
        .where(Task.status == task_status)
        .order_by(col(Task.due_at).is_(None), col(Task.due_at), col(Task.id))
    ).all()
    access.log_all(task.referral_id for task in tasks)
    return [TaskOut.model_validate(task, from_attributes=True) for task in tasks]
