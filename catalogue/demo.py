"""The demo directory: Millbrook, an invented town with 45 services from 25 organisations.

``data/demo_millbrook.json`` holds a compact description; ``service_documents`` expands it into
full HSDS 3.0 service records (organisation, locations, schedules, areas, capacity, costs and
needs) that pass the same schema validation as any imported file.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from catalogue.geocode import POSTCODE_DISTRICTS
from catalogue.record_writer import write_service
from catalogue.tables import Service
from catalogue.taxonomy import ensure_social_prescribing_taxonomy
from catalogue.validation import RecordKind, schema_problem

DEMO_FILE = Path(__file__).parent / "data" / "demo_millbrook.json"
TOWN = "Millbrook"


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(DEMO_FILE.read_text("utf-8"))
    return spec


def load_demo_directory(session: Session) -> None:
    """Load the demo services that are not in the directory yet, and commit.

    Safe on every start: services already there are left alone, so capacity and status that
    organisations have changed since are kept.
    """
    ensure_social_prescribing_taxonomy(session)
    documents = service_documents()
    present = set(
        session.exec(select(Service.id).where(col(Service.id).in_([d["id"] for d in documents])))
    )
    for document in documents:
        if document["id"] in present:
            continue
        problem = schema_problem(RecordKind.SERVICE, document)
        if problem:
            raise ValueError(f"demo service {document['id']} is not valid HSDS: {problem}")
        write_service(session, document)
    session.commit()


def service_documents() -> list[dict[str, Any]]:
    spec = _spec()
    organizations = {organization["id"]: organization for organization in spec["organizations"]}
    locations = {location["id"]: location for location in spec["locations"]}
    return [
        expand_service(service, organizations, locations, spec["assured_by"])
        for service in spec["services"]
    ]


def expand_service(
    service: dict[str, Any],
    organizations: dict[str, dict[str, Any]],
    locations: dict[str, dict[str, Any]],
    assured_by: str,
) -> dict[str, Any]:
    """One compact service description as a full HSDS 3.0 service record."""
    sid = service["id"]
    organization = organizations[service["organization"]]
    minimum_age, maximum_age = service.get("ages") or (None, None)
    document: dict[str, Any] = {
        "id": sid,
        "name": service["name"],
        "description": service["description"],
        "status": service.get("status", "active"),
        "email": f"{sid.removeprefix('svc-')}@example.org",
        "assured_date": service["assured"],
        "assurer_email": assured_by,
        "last_modified": service["modified"],
        "organization": _organization(organization),
        "phones": [{"id": f"phone-{sid}", "number": organization["phone"], "type": "voice"}],
        "schedules": [_schedule(sid, service)],
        "attributes": [
            {
                "id": f"attr-{sid}-{need}",
                "taxonomy_term_id": need,
                "link_id": sid,
                "link_type": "need",
                "link_entity": "service",
            }
            for need in service["needs"]
        ],
    }
    if minimum_age is not None:
        document["minimum_age"] = minimum_age
    if maximum_age is not None:
        document["maximum_age"] = maximum_age
    if service.get("alert"):
        document["alert"] = service["alert"]
    if service.get("areas"):
        districts = ", ".join(service["areas"])
        document["service_areas"] = [
            {
                "id": f"area-{sid}",
                "name": f"{TOWN}: {districts}",
                "extent": districts,
                "extent_type": POSTCODE_DISTRICTS,
            }
        ]
    short = sid.removeprefix("svc-")
    links = [
        {"id": f"sal-{short}-{number}", "location": _location(locations[location_id])}
        for number, location_id in enumerate(service.get("locations", []), start=1)
    ]
    if service.get("online"):
        links.append({"id": f"sal-{short}-online", "location": _online_location(organization)})
    if links:
        document["service_at_locations"] = links
    if "capacity" in service:
        capacity = service["capacity"]
        document["capacities"] = [
            {
                "id": f"capacity-{sid}",
                "available": capacity["available"],
                "maximum": capacity["maximum"],
                "waiting_list": capacity.get("waiting_list", False),
                "description": "places",
                "updated": service["modified"],
            }
        ]
    if "cost" in service:
        cost = service["cost"]
        document["cost_options"] = [
            {
                "id": f"cost-{sid}",
                "option": cost["option"],
                "currency": "GBP",
                "amount": cost["amount"],
            }
        ]
    return document


def _organization(organization: dict[str, Any]) -> dict[str, Any]:
    slug = organization["id"].removeprefix("org-")
    return {
        "id": organization["id"],
        "name": organization["name"],
        "description": organization["description"],
        "email": f"hello@{slug}.example.org",
        "website": f"https://{slug}.example.org",
        "phones": [{"id": f"phone-{organization['id']}", "number": organization["phone"]}],
    }


def _location(location: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": location["id"],
        "location_type": "physical",
        "name": location["name"],
        "latitude": location["latitude"],
        "longitude": location["longitude"],
        "addresses": [
            {
                "id": f"address-{location['id']}",
                "address_1": location["address"],
                "city": TOWN,
                "state_province": "England",
                "postal_code": location["postcode"],
                "country": "GB",
                "address_type": "physical",
            }
        ],
    }


def _online_location(organization: dict[str, Any]) -> dict[str, Any]:
    slug = organization["id"].removeprefix("org-")
    return {
        "id": f"loc-online-{slug}",
        "location_type": "virtual",
        "name": f"{organization['name']}: online and by phone",
        "url": f"https://{slug}.example.org/online",
    }


def _schedule(sid: str, service: dict[str, Any]) -> dict[str, Any]:
    opens_at, closes_at = service["hours"]
    online, in_person = service.get("online", False), bool(service.get("locations"))
    attending = {
        (True, True): "in person or online",
        (True, False): "online",
        (False, True): "in person",
        (False, False): "in person, at home",
    }[(online, in_person)]
    return {
        "id": f"schedule-{sid}",
        "freq": "WEEKLY",
        "byday": service["days"],
        "opens_at": f"{opens_at}:00",
        "closes_at": f"{closes_at}:00",
        "attending_type": attending,
    }
