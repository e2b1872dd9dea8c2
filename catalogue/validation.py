"""Validate HSDS records against the official HSDS 3.0 schema, with jsonschema.

``data/hsds_3.0_compiled_service.schema.json.gz`` is the official compiled service schema
(openreferral/specification at 279fd2e, CC BY-SA 4.0), minified and gzipped: the shared copy in
``shared/standards/hsds`` is outside the package, and a test checks the two are the same. The
schemas for organizations, service-at-locations and taxonomy terms are the ones the compiled
service schema nests.

Formats (``uuid``, ``email``, ``uri``) are annotations in JSON Schema 2020-12 and are not
asserted: UK directories publish readable ids, and dates that a typed column cannot hold are
rejected on import with their field name anyway.
"""

import copy
import gzip
import json
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMA_FILE = Path(__file__).parent / "data" / "hsds_3.0_compiled_service.schema.json.gz"


class RecordKind(StrEnum):
    SERVICE = "service"
    ORGANIZATION = "organization"
    SERVICE_AT_LOCATION = "service_at_location"
    TAXONOMY_TERM = "taxonomy_term"


@cache
def compiled_service_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(gzip.decompress(SCHEMA_FILE.read_bytes()))
    return schema


def schema_for(kind: RecordKind) -> dict[str, Any]:
    service = compiled_service_schema()
    properties = service["properties"]
    if kind is RecordKind.SERVICE:
        return service
    if kind is RecordKind.ORGANIZATION:
        organization = copy.deepcopy(properties["organization"])
        organization["properties"]["services"] = {"type": "array", "items": service}
        return dict(organization)
    if kind is RecordKind.SERVICE_AT_LOCATION:
        service_at_location = copy.deepcopy(properties["service_at_locations"]["items"])
        service_at_location["properties"]["service"] = service
        return dict(service_at_location)
    return dict(properties["attributes"]["items"]["properties"]["taxonomy_term"])


@cache
def validator_for(kind: RecordKind) -> Draft202012Validator:
    return Draft202012Validator(schema_for(kind))


def schema_problem(kind: RecordKind, record: Any) -> str | None:
    """The most relevant schema violation, as ``$.path: message``, or None if valid."""
    error = best_match(validator_for(kind).iter_errors(record))
    if error is None:
        return None
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"{error.json_path}: {message}"


_SERVICE_AT_LOCATION_KEYS = {"location", "location_id", "service", "service_id"}
_TERM_KEYS = {"code", "parent_id", "taxonomy", "taxonomy_detail", "term_uri", "language"}
_ORGANIZATION_KEYS = {
    "services",
    "website",
    "tax_status",
    "tax_id",
    "year_incorporated",
    "legal_status",
    "logo",
    "funding",
    "programs",
    "organization_identifiers",
    "parent_organization_id",
}


def detect_kind(record: dict[str, Any]) -> RecordKind | None:
    """Guess what a record is from the keys only its kind has; None when it cannot tell."""
    keys = record.keys()
    if "status" in keys:
        return RecordKind.SERVICE
    if keys & _SERVICE_AT_LOCATION_KEYS:
        return RecordKind.SERVICE_AT_LOCATION
    if keys & _TERM_KEYS:
        return RecordKind.TAXONOMY_TERM
    if keys & _ORGANIZATION_KEYS:
        return RecordKind.ORGANIZATION
    return None
