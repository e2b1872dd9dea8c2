"""Whose tasks are whose: a link worker's (and a team lead's) or an organisation's list,
soonest due first, one page at a time (``api.paging``), for the JSON routes and the web
pages alike. The caller's right to the list is checked by the route (``api.access``);
reading it is logged here."""

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from api.access import Access
from api.paging import Listed, Window
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
    access: Access,
    assignee_id: str,
    kinds: Sequence[AssigneeKind],
    status: TaskStatus,
    shown: Window,
) -> Listed[TaskOut]:
    whose = tasks_of(assignee_id, kinds, status)
    total = access.session.exec(select(func.count()).select_from(Task).where(*whose)).one()
    tasks = access.session.exec(
        select(Task).where(*whose).order_by(*TASK_ORDER).offset(shown.offset).limit(shown.limit)
    ).all()
    access.log_all(task.referral_id for task in tasks)
    return Listed([TaskOut.model_validate(task, from_attributes=True) for task in tasks], total)


class TaskCounts(NamedTuple):
    total: int
    overdue: int
    """Due before now."""
    due_today: int
    """Due from now until the start of the next local day."""


def task_counts(
    session: Session, whose: Sequence[ColumnElement[bool]], now: datetime, tomorrow: datetime
) -> TaskCounts:
    """A list's summary on every page of it, in one query (each query more is a round trip
    more than the JSON route's)."""
    due = col(Task.due_at)
    total, overdue, due_today = session.exec(
        select(
            func.count(),
            func.count().filter(due < now),
            func.count().filter(due >= now, due < tomorrow),
        )
        .select_from(Task)
        .where(*whose)
    ).one()
    return TaskCounts(total, overdue, due_today)
