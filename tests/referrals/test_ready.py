"""/health/ready on a real Temporal server: ready when a worker polls the task queue, and
naming the worker as down when none does."""

import asyncio

import httpx
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.settings import Settings
from tests.support.driver import Driver


async def test_ready_when_the_database_temporal_and_a_worker_answer(dev_driver: Driver) -> None:
    # A worker that has just started is seen at its first poll, a moment later, as a
    # probe that repeats would see it.
    for _ in range(50):
        ready = await dev_driver.http.get("/health/ready")
        if ready.status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "database": "up",
        "temporal": "up",
        "worker": "up",
        "down": [],
    }


async def test_not_ready_when_no_worker_polls_the_task_queue(
    dev_server_env: WorkflowEnvironment, settings: Settings
) -> None:
    unpolled = settings.model_copy(update={"task_queue": "nobody-polls-this-queue"})
    transport = httpx.ASGITransport(app=create_app(unpolled, dev_server_env.client))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        ready = await http.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["down"] == ["worker"]
    assert ready.json()["temporal"] == "up"
