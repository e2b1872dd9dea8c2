"""'Your tasks': the signed-in link worker's open tasks, overdue first."""

import math
from datetime import datetime

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, select

from api.access import LINK_WORKER_TEAM, Access
from api.task_lists import TASK_ORDER, link_worker_task_kinds, tasks_of
from api.web.link_worker.paging import page_links
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from api.web.words import LONDON, OVERDUE, TASK_KIND, due_tag
from domain.enums import TaskStatus
from domain.tables import Person, Task

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_PAGE = 25


@router.get("/tasks")
def tasks_page(request: Request, access: PageAccess, page: int = Query(1, ge=1)) -> Response:
    role_or_404(access, LINK_WORKER_TEAM)
    worker_id = access.principal.link_worker_id
    found = _tasks_with_names(access, worker_id) if worker_id else []
    now = datetime.now(LONDON)
    tags = [due_tag(task.due_at, now, now.date()) for task, _ in found]
    pages = max(1, math.ceil(len(found) / PER_PAGE))
    page = min(page, pages)
    shown = slice((page - 1) * PER_PAGE, page * PER_PAGE)
    rows = [
        {"task": task, "what": TASK_KIND[task.kind], "person": person, "tag": tag}
        for (task, person), tag in zip(found[shown], tags[shown], strict=True)
    ]
    return render(
        request,
        "link_worker/tasks.html",
        title="Your tasks",
        rows=rows,
        total=len(found),
        overdue=sum(tag is OVERDUE for tag in tags),
        due_today=sum(tag is not None and tag is not OVERDUE for tag in tags),
        page=page,
        pages=pages,
        paging=page_links(request, page, pages),
        is_team_account=worker_id is None,
    )


def _tasks_with_names(access: Access, worker_id: str) -> list[tuple[Task, str]]:
    """The JSON API's list (``GET /link-workers/{id}/tasks``): the same tasks in the same
    order (soonest due first, so overdue first), the same access check and access log; with
    each person's name from the same query. Asked after the list, whose access log commits,
    the names took a connection from the pool again: a ping and a round trip more."""
    worker = access.team_link_worker_or_404(worker_id)
    rows = access.session.exec(
        select(Task, Person.given_name, Person.family_name)
        .outerjoin(Person, col(Person.referral_id) == col(Task.referral_id))
        .where(*tasks_of(worker_id, link_worker_task_kinds(worker), TaskStatus.OPEN))
        .order_by(*TASK_ORDER)
    ).all()
    access.log_all(task.referral_id for task, _, _ in rows)
    return [(task, f"{given} {family}" if given else "") for task, given, family in rows]
