"""'Your tasks': the signed-in link worker's open tasks, overdue first."""

import math
from datetime import datetime, time, timedelta
from typing import NamedTuple

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, select

from api.access import LINK_WORKER_TEAM, Access
from api.task_lists import TASK_ORDER, TaskCounts, link_worker_task_kinds, task_counts, tasks_of
from api.web.link_worker.paging import page_links
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from api.web.words import LONDON, TASK_KIND, due_tag
from domain.enums import TaskStatus
from domain.tables import Person, Task

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_PAGE = 25


class TasksShown(NamedTuple):
    """One page of a link worker's open tasks, each with the person's name, and the counts
    of the whole list."""

    counts: TaskCounts
    page: int
    pages: int
    rows: list[tuple[Task, str]]


@router.get("/tasks")
def tasks_page(request: Request, access: PageAccess, page: int = Query(1, ge=1)) -> Response:
    role_or_404(access, LINK_WORKER_TEAM)
    worker_id = access.principal.link_worker_id
    now = datetime.now(LONDON)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), time(), LONDON)
    shown = (
        _tasks_shown(access, worker_id, page, now, tomorrow)
        if worker_id
        else TasksShown(TaskCounts(0, 0, 0), 1, 1, [])
    )
    rows = [
        {
            "task": task,
            "what": TASK_KIND[task.kind],
            "person": person,
            "tag": due_tag(task.due_at, now, now.date()),
        }
        for task, person in shown.rows
    ]
    return render(
        request,
        "link_worker/tasks.html",
        title="Your tasks",
        rows=rows,
        total=shown.counts.total,
        overdue=shown.counts.overdue,
        due_today=shown.counts.due_today,
        page=shown.page,
        pages=shown.pages,
        paging=page_links(request, shown.page, shown.pages),
        is_team_account=worker_id is None,
    )


def _tasks_shown(
    access: Access, worker_id: str, page: int, now: datetime, tomorrow: datetime
) -> TasksShown:
    """The JSON API's list (``GET /link-workers/{id}/tasks``): the same access check, the
    same tasks in the same order (soonest due first, so overdue first), a page at a time,
    the same access log; with each person's name from the same query. Everything is asked
    before the access log: its commit gives the connection back to the pool, and a query
    after it would take one again (a ping and a round trip more). A page past the end
    shows the last one."""
    worker = access.team_link_worker_or_404(worker_id)
    whose = tasks_of(worker_id, link_worker_task_kinds(worker), TaskStatus.OPEN)
    counts = task_counts(access.session, whose, now, tomorrow)
    pages = max(1, math.ceil(counts.total / PER_PAGE))
    page = min(page, pages)
    found = access.session.exec(
        select(Task, Person.given_name, Person.family_name)
        .outerjoin(Person, col(Person.referral_id) == col(Task.referral_id))
        .where(*whose)
        .order_by(*TASK_ORDER)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    access.log_all(task.referral_id for task, _, _ in found)
    rows = [(task, f"{given} {family}" if given else "") for task, given, family in found]
    return TasksShown(counts, page, pages, rows)
