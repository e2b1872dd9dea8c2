"""``socialrx worker`` and ``socialrx api``: the two long-running processes of production.

Both read their configuration from the environment (see Settings) and bring the database up
to date before they start, so either may be the first to run against a fresh database.
"""

import asyncio
import logging
import signal

from catalogue.geocode import Geocoder, demo_town_geocoder
from core import logs
from core.db import engine_for, migrate
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)


def _configure_logs(settings: Settings) -> None:
    logs.configure(settings.log_level, json_lines=settings.json_logs)
    # Alembic announces its dialect on every start even when there is nothing to migrate.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def worker() -> None:
    """Run a Temporal worker for referrals: the workflow and its read-model activities.

    Connects to SOCIALRX_TEMPORAL_ADDRESS (default 127.0.0.1:SOCIALRX_TEMPORAL_PORT) and
    polls SOCIALRX_TASK_QUEUE. Run as many as you like; SIGTERM stops one gracefully.
    """
    settings = get_settings()
    _configure_logs(settings)
    migrate(settings.resolved_database_url, settings.migration_database_url)
    asyncio.run(_work_until_stopped(settings))


async def _work_until_stopped(settings: Settings) -> None:
    from core.temporal import connect, runtime_for
    from core.tracing import start_tracing, trace_engine
    from socialrx.worker import run_worker

    # Cancelling the worker's task leaves `async with Worker` cleanly, which shuts it down.
    this_task = asyncio.current_task()
    assert this_task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, this_task.cancel)
    engine = engine_for(settings.resolved_database_url)
    tracer_provider = start_tracing(settings.tracing, "worker")
    if tracer_provider is not None:
        trace_engine(engine, tracer_provider)
    client = await connect(settings, runtime_for(settings.metrics))
    try:
        await run_worker(
            client,
            settings.task_queue,
            engine,
            settings.measures,
            geocoder=deployment_geocoder(),
            settings=settings,
        )
    except asyncio.CancelledError:
        log.info("worker stopped")


def deployment_geocoder() -> Geocoder:
    """The one geocoder of this deployment, for the worker's matching and the app's alike: the
    demo town's district centroids (a real deployment would load its own here)."""
    return demo_town_geocoder()


def api() -> None:
    """Serve the HTTP API with uvicorn on SOCIALRX_API_HOST:SOCIALRX_API_PORT.

    Interactive documentation is at /docs. SIGTERM stops it gracefully.
    """
    import uvicorn

    from api.main import create_app
    from core.tracing import start_tracing

    settings = get_settings()
    _configure_logs(settings)
    tracer_provider = start_tracing(settings.tracing, "api")
    # log_config=None keeps uvicorn's loggers on our rich handler instead of its own.
    uvicorn.run(
        create_app(settings, geocoder=deployment_geocoder(), tracer_provider=tracer_provider),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        log_level=settings.log_level.lower(),
    )
