"""The FastAPI application."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from temporalio.client import Client

from api.errors import Refused, database_unavailable, refused_error
from api.fhir.errors import http_error, validation_error
from api.routes import (
    audit,
    auth,
    catalogue,
    fhir,
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

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    temporal: Client | None = None,
    geocoder: Geocoder | None = None,
) -> FastAPI:
    """Build the app. Tests pass a Temporal client; otherwise it connects on start-up. The
    composition root chooses the geocoder; without one, the demo town's district centroids."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(settings.resolved_database_url)
        if app.state.temporal is None:
            app.state.temporal = await connect(settings)
        yield

    app = FastAPI(
        title="socialrx",
        summary="Social prescribing referrals: GP practice, link worker, community organisation.",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(reject_nul_characters)],
    )
    app.state.settings = settings
    app.state.engine = engine_for(settings.resolved_database_url)
    app.state.temporal = temporal
    app.state.geocoder = geocoder or demo_town_geocoder()
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Refused, refused_error)
    # A pool with no free connection in time, or no database: 503 with Retry-After.
    app.add_exception_handler(PoolTimeout, database_unavailable)
    app.add_exception_handler(OperationalError, database_unavailable)
    # FHIR paths answer every error as an OperationOutcome, a 401 from sign-in included.
    app.add_exception_handler(HTTPException, http_error)
    for area in (
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
    app.mount(web.STATIC_URL, StaticFiles(directory=web.STATIC_DIR), name="static")
    return app
