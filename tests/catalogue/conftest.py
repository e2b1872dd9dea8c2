"""Fixtures for the directory: the shipped HSDS schemas, a small directory builder, the API."""

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from sqlalchemy import Engine

from api.main import create_app
from api.routes.catalogue import router
from catalogue.demo import expand_service
from catalogue.importer import ImportReport, import_documents
from core.settings import Settings

# CI clones the repository with shared/ beside it.
HSDS = Path(__file__).parents[2] / ".." / "shared" / "standards" / "hsds"

TOWN_ORGANIZATIONS = {
    "org-a": {"id": "org-a", "name": "Org A", "description": "First.", "phone": "01632 960 001"},
    "org-b": {"id": "org-b", "name": "Org B", "description": "Second.", "phone": "01632 960 002"},
}
TOWN_LOCATIONS = {
    # About 1 km and 5 km north of the MB1 centroid (52.3, -1.5).
    "loc-near": {
        "id": "loc-near",
        "name": "Near hall",
        "address": "1 Near Street",
        "postcode": "MB1 1AA",
        "latitude": 52.309,
        "longitude": -1.5,
    },
    "loc-far": {
        "id": "loc-far",
        "name": "Far hall",
        "address": "1 Far Lane",
        "postcode": "MB6 1AA",
        "latitude": 52.345,
        "longitude": -1.5,
    },
}


def load_json(name: str) -> Any:
    return json.loads((HSDS / name).read_text("utf-8"))


@pytest.fixture(scope="session")
def service_schema() -> dict[str, Any]:
    schema: dict[str, Any] = load_json("schema_compiled_service.json")
    return schema


@pytest.fixture(scope="session")
def page_schema() -> dict[str, Any]:
    schema: dict[str, Any] = load_json("schema_openapi.json")["components"]["schemas"]["Page"]
    return schema


def assert_valid(schema: dict[str, Any], document: Any) -> None:
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=str)
    assert not errors, [f"{error.json_path}: {error.message}" for error in errors[:5]]


def town_service(service_id: str, **spec: Any) -> dict[str, Any]:
    """A full HSDS service, described as in the demo file; defaults give an open, active
    service for everyone at loc-near on Mondays."""
    compact: dict[str, Any] = {
        "id": service_id,
        "organization": "org-a",
        "name": service_id.replace("-", " "),
        "description": f"{service_id} for testing.",
        "needs": ["sp-arts"],
        "days": "MO",
        "hours": ["10:00", "12:00"],
        "locations": ["loc-near"],
        "assured": "2025-01-01",
        "modified": "2025-01-01T00:00:00Z",
        **spec,
    }
    return expand_service(compact, TOWN_ORGANIZATIONS, TOWN_LOCATIONS, "assurer@example.org")


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
