"""'Your tasks': the signed-in link worker's open tasks, overdue first."""

import math
from datetime import datetime, time, timedelta

from fastapi import APIRouter, Query, Request, Response

from api.access import LINK_WORKER_TEAM
from api.paging import Listed, Window
from api.routes.link_workers import kinds_of
from api.schemas import TaskOut
from api.task_lists import due_counts, task_list
from api.web.link_worker.paging import page_links
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.people import names_of
from api.web.templating import render
from api.web.words import LONDON, TASK_KIND, due_tag
from domain.enums import TaskStatus

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_PAGE = 25


@router.get("/tasks")
def tasks_page(request: Request, access: PageAccess, page: int = Query(1, ge=1)) -> Response:
    role_or_404(access, LINK_WORKER_TEAM)
    worker_id = access.principal.link_worker_id
    now = datetime.now(LONDON)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), time(), LONDON)
    # The JSON API's own list (GET /link-workers/{id}/tasks): the same tasks, in the same
    # order (soonest due first, so overdue first), a page at a time, with the same access log.
    listed, overdue, due_today = Listed[TaskOut]([], 0), 0, 0
    pages = 1
    if worker_id:
        kinds = kinds_of(access.team_link_worker_or_404(worker_id))

        def page_of_tasks(number: int) -> Listed[TaskOut]:
            shown = Window(PER_PAGE, (number - 1) * PER_PAGE)
            return task_list(access, worker_id, kinds, TaskStatus.OPEN, shown)

        listed = page_of_tasks(page)
        pages = max(1, math.ceil(listed.total / PER_PAGE))
        if page > pages:  # past the end: the last page, as before
            page = pages
            listed = page_of_tasks(page)
        overdue, due_today = due_counts(access, worker_id, kinds, now, tomorrow)
    page = min(page, pages)
    names = names_of(access.session, {task.referral_id for task in listed.items})
    rows = [
        {
            "task": task,
            "what": TASK_KIND[task.kind],
            "person": names.get(task.referral_id, ""),
            "tag": due_tag(task.due_at, now, now.date()),
        }
        for task in listed.items
    ]
    return render(
        request,
        "link_worker/tasks.html",
        title="Your tasks",
        rows=rows,
        total=listed.total,
        overdue=overdue,
        due_today=due_today,
        page=page,
        pages=pages,
        paging=page_links(request, page, pages),
        is_team_account=worker_id is None,
    )
