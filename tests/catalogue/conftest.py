"""Fixtures for the directory: the shipped HSDS schemas, a small directory builder, the API."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from api.main import create_app
from api.routes.catalogue import router
from catalogue.importer import ImportReport, import_documents
from core.settings import Settings
from tests.support.hsds import load_json


@pytest.fixture(scope="session")
def service_schema() -> dict[str, Any]:
    schema: dict[str, Any] = load_json("schema_compiled_service.json")
    return schema


@pytest.fixture(scope="session")
def page_schema() -> dict[str, Any]:
    schema: dict[str, Any] = load_json("schema_openapi.json")["components"]["schemas"]["Page"]
    return schema


@pytest.fixture
def add_services(engine: Engine) -> Callable[..., ImportReport]:
    def add(*documents: dict[str, Any]) -> ImportReport:
        report = import_documents(engine, documents)
        assert not report.rejected, report.rejected
        return report

    return add


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    # temporal=None and no lifespan: the catalogue needs neither; the database is migrated.
    application = create_app(settings, temporal=None)
    application.include_router(router)
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # ASGITransport does not run the lifespan, which would connect to Temporal.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
