"""Probes for the orchestrator and the proxy: is the process alive, and can it do its work?

Neither needs a sign-in, and neither says more than which part is down.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from api.deps import EngineDep, SettingsDep
from api.errors import RETRY_AFTER_SECONDS
from core.settings import Settings

router = APIRouter(prefix="/health", tags=["health"])

Check = Literal["up", "down"]


class Liveness(BaseModel):
    status: Literal["live"] = "live"


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    database: Check
    temporal: Check
    worker: Check
    down: list[str]


@router.get("/live", summary="The process answers")
async def live() -> Liveness:
    return Liveness()


@router.get(
    "/ready",
    summary="The database answers, Temporal answers, and a worker polls the task queue",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Something is down; `down` says what."}},
)
async def ready(request: Request, engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    deadline = settings.temporal.rpc_timeout
    client: Client | None = request.app.state.temporal
    database, (temporal, worker) = await asyncio.gather(
        _database(engine, deadline), _temporal_and_worker(client, settings)
    )
    checks: dict[str, Check] = {"database": database, "temporal": temporal, "worker": worker}
    down = [name for name, check in checks.items() if check == "down"]
    readiness = Readiness(status="not ready" if down else "ready", down=down, **checks)
    if down:
        return JSONResponse(
            readiness.model_dump(),
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return JSONResponse(readiness.model_dump())


async def _database(engine: Engine, deadline: timedelta) -> Check:
    try:
        await asyncio.wait_for(run_in_threadpool(_select_one, engine), deadline.total_seconds())
    except (SQLAlchemyError, TimeoutError):
        return "down"
    return "up"


def _select_one(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


async def _temporal_and_worker(client: Client | None, settings: Settings) -> tuple[Check, Check]:
    """Temporal answers if it describes the task queue; a worker polls if Temporal saw one
    poll the queue within ``worker_seen_within``."""
    if client is None:
        return "down", "down"
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=settings.task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        described = await client.workflow_service.describe_task_queue(
            request, timeout=settings.temporal.rpc_timeout
        )
    except (RPCError, RuntimeError):
        return "down", "down"
    seen_since = datetime.now(UTC) - settings.temporal.worker_seen_within
    polling = any(
        poller.last_access_time.ToDatetime(tzinfo=UTC) >= seen_since for poller in described.pollers
    )
    return "up", "up" if polling else "down"
