"""Whose tasks are whose: a link worker's (and a team lead's) or an organisation's list,
soonest due first, for the JSON routes and the web pages alike. The caller's right to the
list is checked by the route (``api.access``); reading it is logged here."""

from collections.abc import Sequence

from sqlalchemy import ColumnElement
from sqlmodel import col, select

from api.access import Access
from api.schemas import TaskOut
from domain.enums import AssigneeKind, TaskStatus
from domain.tables import LinkWorker, Task


def link_worker_task_kinds(worker: LinkWorker) -> list[AssigneeKind]:
    """A link worker's own tasks; a team lead's list also has the team lead's."""
    return [AssigneeKind.LINK_WORKER] + ([AssigneeKind.TEAM_LEAD] if worker.is_team_lead else [])


def tasks_of(
    assignee_id: str, kinds: Sequence[AssigneeKind], status: TaskStatus
) -> list[ColumnElement[bool]]:
    """Which tasks the list holds, for a page that selects more with them."""
    return [
        col(Task.assignee_id) == assignee_id,
        col(Task.assignee_kind).in_(kinds),
        col(Task.status) == status,
    ]


TASK_ORDER = (col(Task.due_at).is_(None), col(Task.due_at), col(Task.id))
"""Soonest due first, undated last."""


def task_list(
    access: Access, assignee_id: str, kinds: Sequence[AssigneeKind], status: TaskStatus
) -> list[TaskOut]:
    tasks = access.session.exec(
        select(Task).where(*tasks_of(assignee_id, kinds, status)).order_by(*TASK_ORDER)
    ).all()
    access.log_all(task.referral_id for task in tasks)
    return [TaskOut.model_validate(task, from_attributes=True) for task in tasks]
