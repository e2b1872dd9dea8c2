"""The shipped HSDS standard files, checking documents against them, and a small town of
HSDS services to build directories from."""

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from catalogue.demo import expand_service

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
