"""Whose tasks are whose: a link worker's (and a team lead's) or an organisation's list,
soonest due first, one page at a time (``api.paging``), for the JSON routes and the web
pages alike. The caller's right to the list is checked by the route (``api.access``);
reading it is logged here."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from api.access import Access
from api.paging import Listed, Window
from api.schemas import TaskOut
from domain.enums import AssigneeKind, TaskStatus
from domain.tables import Task


def _whose(assignee_id: str, kinds: Sequence[AssigneeKind], status: TaskStatus) -> list[Any]:
    return [
        Task.assignee_id == assignee_id,
        col(Task.assignee_kind).in_(kinds),
        Task.status == status,
    ]


def task_list(
    access: Access,
    assignee_id: str,
    kinds: Sequence[AssigneeKind],
    status: TaskStatus,
    shown: Window,
) -> Listed[TaskOut]:
    whose = _whose(assignee_id, kinds, status)
    total = access.session.exec(select(func.count()).select_from(Task).where(*whose)).one()
    tasks = access.session.exec(
        select(Task)
        .where(*whose)
        .order_by(col(Task.due_at).is_(None), col(Task.due_at), col(Task.id))
        .offset(shown.offset)
        .limit(shown.limit)
    ).all()
    access.log_all(task.referral_id for task in tasks)
    return Listed([TaskOut.model_validate(task, from_attributes=True) for task in tasks], total)


def due_counts(
    access: Access,
    assignee_id: str,
    kinds: Sequence[AssigneeKind],
    now: datetime,
    tomorrow: datetime,
) -> tuple[int, int]:
    """How many open tasks are overdue (due before ``now``), and due later today (before
    ``tomorrow``, the start of the next local day): for a list's summary on every page."""
    due = col(Task.due_at)
    whose = _whose(assignee_id, kinds, TaskStatus.OPEN)

    def count(*where: Any) -> int:
        return access.session.exec(
            select(func.count()).select_from(Task).where(*whose, *where)
        ).one()

    return count(due < now), count(due >= now, due < tomorrow)
