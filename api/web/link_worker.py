"""Link workers' pages. For now: "Your tasks", read only."""

from datetime import datetime

from fastapi import APIRouter, Request, Response

from api.access import LINK_WORKER_TEAM
from api.routes.link_workers import list_tasks
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.people import names_of
from api.web.templating import render
from api.web.words import LONDON, TASK_KIND, due_tag
from domain.enums import TaskStatus

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/tasks")
def tasks_page(request: Request, access: PageAccess) -> Response:
    role_or_404(access, LINK_WORKER_TEAM)
    worker_id = access.principal.link_worker_id
    # The JSON API's own list: the same tasks, in the same order (soonest due first, so
    # overdue first), with the same access log.
    tasks = list_tasks(worker_id, access, TaskStatus.OPEN) if worker_id else []
    names = names_of(access.session, {task.referral_id for task in tasks})
    now = datetime.now(LONDON)
    rows = [
        {
            "task": task,
            "what": TASK_KIND[task.kind],
            "person": names.get(task.referral_id, ""),
            "tag": due_tag(task.due_at, now, now.date()),
        }
        for task in tasks
    ]
    return render(
        request,
        "link_worker/tasks.html",
        title="Your tasks",
        rows=rows,
        is_team_account=worker_id is None,
    )
