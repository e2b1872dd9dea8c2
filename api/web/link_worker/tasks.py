"""'Your tasks': the signed-in link worker's open tasks, overdue first."""

import math
from datetime import datetime

from fastapi import APIRouter, Query, Request, Response

from api.access import LINK_WORKER_TEAM
from api.routes.link_workers import list_tasks
from api.web.link_worker.paging import page_links
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.people import names_of
from api.web.templating import render
from api.web.words import LONDON, OVERDUE, TASK_KIND, due_tag
from domain.enums import TaskStatus

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_PAGE = 25


@router.get("/tasks")
def tasks_page(request: Request, access: PageAccess, page: int = Query(1, ge=1)) -> Response:
    role_or_404(access, LINK_WORKER_TEAM)
    worker_id = access.principal.link_worker_id
    # The JSON API's own list: the same tasks, in the same order (soonest due first, so
    # overdue first), with the same access log.
    tasks = list_tasks(worker_id, access, TaskStatus.OPEN) if worker_id else []
    now = datetime.now(LONDON)
    tags = [due_tag(task.due_at, now, now.date()) for task in tasks]
    pages = max(1, math.ceil(len(tasks) / PER_PAGE))
    page = min(page, pages)
    shown = slice((page - 1) * PER_PAGE, page * PER_PAGE)
    names = names_of(access.session, {task.referral_id for task in tasks[shown]})
    rows = [
        {
            "task": task,
            "what": TASK_KIND[task.kind],
            "person": names.get(task.referral_id, ""),
            "tag": tag,
        }
        for task, tag in zip(tasks[shown], tags[shown], strict=True)
    ]
    return render(
        request,
        "link_worker/tasks.html",
        title="Your tasks",
        rows=rows,
        total=len(tasks),
        overdue=sum(tag is OVERDUE for tag in tags),
        due_today=sum(tag is not None and tag is not OVERDUE for tag in tags),
        page=page,
        pages=pages,
        paging=page_links(request, page, pages),
        is_team_account=worker_id is None,
    )
