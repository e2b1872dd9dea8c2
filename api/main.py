"""The FastAPI application."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from temporalio.client import Client

from accounts.sign_in import PasswordGate
from api.errors import Refused, database_unavailable, refused_error
from api.fhir.errors import http_error, validation_error
from api.http_guard import BodySizeLimit, SecurityHeaders
from api.metrics import RequestMetrics
from api.metrics import router as metrics_router
from api.request_id import RequestId
from api.routes import (
    audit,
    auth,
    catalogue,
    fhir,
    health,
    link_workers,
    organisations,
    people,
    referrals,
    reports,
    service_referrals,
)
from api.text_guard import reject_nul_characters
from api.web import routes as web
from catalogue.geocode import Geocoder, demo_town_geocoder
from core.db import engine_for, migrate
from core.settings import Settings, get_settings
from core.temporal import connect
from core.tracing import trace_engine

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    temporal: Client | None = None,
    geocoder: Geocoder | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Build the app. Tests pass a Temporal client; otherwise it connects in the background
    from start-up on. The composition root chooses the geocoder; without one, the demo town's
    district centroids. With a tracer provider, every request and SQL statement is a span."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(settings.resolved_database_url, settings.migration_database_url)
        connecting = None
        if app.state.temporal is None:
            connecting = asyncio.create_task(_connect_until_connected(app, settings))
            # Starts connected when Temporal answers at once, as ever; otherwise serves what
            # needs no workflow while it keeps trying.
            await asyncio.wait([connecting], timeout=settings.temporal.rpc_timeout.total_seconds())
            if connecting.done():
                connecting.result()  # what can never connect (an unreadable key file) stops it
        try:
            yield
        finally:
            if connecting is not None:
                connecting.cancel()

    # Production serves no interactive docs: Swagger UI loads its script from a CDN, and
    # would run in the same origin as the session cookie.
    docs = settings.env != "production"
    app = FastAPI(
        title="socialrx",
        summary="Social prescribing referrals: GP practice, link worker, community organisation.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        dependencies=[Depends(reject_nul_characters)],
    )
    app.state.settings = settings
    app.state.engine = engine_for(settings.resolved_database_url)
    app.state.temporal = temporal
    app.state.geocoder = geocoder or demo_town_geocoder()
    # Shared by every sign-in of this process: caps the password checks running at once.
    app.state.password_gate = PasswordGate.from_settings(settings.sign_in)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Refused, refused_error)
    # A pool with no free connection in time, or no database: 503 with Retry-After.
    app.add_exception_handler(PoolTimeout, database_unavailable)
    app.add_exception_handler(OperationalError, database_unavailable)
    # FHIR paths answer every error as an OperationOutcome, a 401 from sign-in included.
    app.add_exception_handler(HTTPException, http_error)
    for area in (
        health,
        auth,
        referrals,
        service_referrals,
        link_workers,
        organisations,
        catalogue,
        reports,
        audit,
        fhir,
    ):
        app.include_router(area.router)
    app.include_router(people.admin)
    app.include_router(people.corrections)
    # The pages (api/web) answer under their own paths, apart from the JSON API's.
    app.include_router(web.router)
    app.include_router(metrics_router)
    app.mount(web.STATIC_URL, StaticFiles(directory=web.STATIC_DIR), name="static")
    # The last added runs first: the headers go on every answer, the 413 of an oversized
    # body included, and that 413 comes before any route or sign-in.
    app.add_middleware(BodySizeLimit, settings=settings)
    app.add_middleware(SecurityHeaders, settings=settings)
    # Outermost: every answer is counted and carries its request ID, a 413 included.
    app.add_middleware(RequestMetrics)
    app.add_middleware(RequestId)
    if tracer_provider is not None:
        # Probes and scrapes every few seconds would drown the traces that matter.
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=tracer_provider, excluded_urls="/health/.*,/metrics"
        )
        trace_engine(app.state.engine, tracer_provider)
    return app


async def _connect_until_connected(app: FastAPI, settings: Settings) -> None:
    """Temporal may be down when the API starts: the directory, reports and every page that
    needs no workflow are served meanwhile, and steps answer 503 until this connects."""
    address = settings.resolved_temporal_address
    delay = 1.0
    while True:
        try:
            app.state.temporal = await connect(settings)
        except RuntimeError as error:  # what the SDK raises when it cannot connect
            log.warning("Temporal at %s did not answer (%s); trying again", address, error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
        else:
            log.info("connected to Temporal at %s", address)
            return
