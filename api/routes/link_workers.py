"""``/link-workers/{id}/tasks``: a link worker's task list. Their steps are under
``/referrals`` (``api.routes.referrals``)."""

from fastapi import APIRouter, Query, Request, Response

from api.access import AccessDep
from api.errors import VISIBLE
from api.paging import WindowDep, page_headers
from api.schemas import (
    TaskOut,
)
from api.task_lists import link_worker_task_kinds, task_list
from domain.enums import TaskStatus

router = APIRouter(prefix="/link-workers", tags=["link workers"])


@router.get(
    "/{link_worker_id}/tasks",
    responses=VISIBLE,
    response_model=list[TaskOut],
    summary="A link worker's tasks, soonest due first, a page at a time (limit, offset)",
)
def list_tasks(
    link_worker_id: str,
    access: AccessDep,
    request: Request,
    response: Response,
    shown: WindowDep,
    task_status: TaskStatus = Query(default=TaskStatus.OPEN, alias="status"),
) -> list[TaskOut]:
    worker = access.team_link_worker_or_404(link_worker_id)
    kinds = link_worker_task_kinds(worker)
    listed = task_list(access, link_worker_id, kinds, task_status, shown)
    page_headers(request, response, shown, listed.total)
    return listed.items
