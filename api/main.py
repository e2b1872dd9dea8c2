"""The FastAPI application."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from temporalio.client import Client

from api.fhir.errors import http_error
from api.routes import (
    audit,
    auth,
    catalogue,
    fhir,
    link_workers,
    organisations,
    practices,
    referrals,
    reports,
)
from api.text_guard import reject_nul_characters
from api.validation_errors import validation_error
from api.web import routes as web
from core.db import engine_for, migrate
from core.settings import Settings, get_settings
from core.temporal import connect

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, temporal: Client | None = None) -> FastAPI:
    """Build the app. Tests pass a Temporal client; otherwise it connects on start-up."""
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
    app.add_exception_handler(RequestValidationError, validation_error)
    # FHIR paths answer every error as an OperationOutcome, a 401 from sign-in included.
    app.add_exception_handler(HTTPException, http_error)
    for area in (
        auth,
        practices,
        referrals,
        link_workers,
        organisations,
        catalogue,
        reports,
        audit,
        fhir,
    ):
        app.include_router(area.router)
    # The pages (api/web) answer under their own paths, apart from the JSON API's.
    app.include_router(web.router)
    app.mount(web.STATIC_URL, StaticFiles(directory=web.STATIC_DIR), name="static")
    return app
