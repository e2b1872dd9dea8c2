"""Whose tasks are whose: a link worker's (and a team lead's) or an organisation's list,
soonest due first, for the JSON routes and the web pages alike. The caller's right to the
list is checked by the route (``api.access``); reading it is logged here."""

from collections.abc import Sequence

from sqlmodel import col, select

from api.access import Access
from api.schemas import TaskOut
from domain.enums import AssigneeKind, TaskStatus
from domain.tables import Task


def task_list(
    access: Access, assignee_id: str, kinds: Sequence[AssigneeKind], status: TaskStatus
) -> list[TaskOut]:
    tasks = access.session.exec(
        select(Task)
        .where(Task.assignee_id == assignee_id)
        .where(col(Task.assignee_kind).in_(kinds))
        .where(Task.status == status)
        .order_by(col(Task.due_at).is_(None), col(Task.due_at), col(Task.id))
    ).all()
    access.log_all(task.referral_id for task in tasks)
    return [TaskOut.model_validate(task, from_attributes=True) for task in tasks]
