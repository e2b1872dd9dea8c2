"""Write one validated HSDS record into the tables, inside the caller's transaction.

Upsert rules, the same for every entity:
- organizations, services, locations, service-at-locations and terms are found by id; the keys a
  document carries overwrite the stored ones and the keys it omits keep their stored value;
- a nested collection that the document carries (``phones``, ``schedules``, ...) replaces the
  stored one; one it omits is left alone. A short list-form record therefore never erases the
  detail a full record brought.
Foreign keys that a document publishes (``organization_id``, ``location_id``, ...) are kept as
published in ``hsds_extra``; the typed columns are set from where the entity was found.
"""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlmodel import Session, col, delete, select

from catalogue.districts import index_districts
from catalogue.hsds_fields import apply_document
from catalogue.search_index import index_service
from catalogue.tables import (
    Attribute,
    Contact,
    CostOption,
    Location,
    Organization,
    OwnedRow,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceCapacity,
    Taxonomy,
    TaxonomyTerm,
)
from catalogue.taxonomy import SOCIAL_PRESCRIBING_TAXONOMY_ID, SOCIAL_PRESCRIBING_TERMS


class RecordRejected(ValueError):
    """The record cannot be imported; the message says why."""


Owned = TypeVar("Owned", bound=OwnedRow)

ORGANIZATION_NESTED = ("contacts", "phones", "locations", "services")
LOCATION_NESTED = ("contacts", "phones", "schedules")
SERVICE_AT_LOCATION_NESTED = ("contacts", "phones", "schedules", "location", "service")
SERVICE_NESTED = (
    "organization",
    "phones",
    "contacts",
    "schedules",
    "service_areas",
    "capacities",
    "cost_options",
    "attributes",
    "service_at_locations",
)


def write_organization(session: Session, document: dict[str, Any]) -> Organization:
    found = session.get(Organization, document["id"])
    organization = found or Organization(id=document["id"], name=document["name"])
    _track(session, f"organization:{organization.id}", created=found is None)
    apply_document(organization, document, ORGANIZATION_NESTED)
    session.add(organization)
    session.flush()
    node = f"organization:{organization.id}"
    _write_contacts_and_phones(session, document, root=node, parent=node)
    for location in document.get("locations") or []:
        write_location(session, location, organization_id=organization.id)
    for service in document.get("services") or []:
        write_service(session, service, organization_id=organization.id)
    return organization


def write_location(
    session: Session, document: dict[str, Any], organization_id: str | None = None
) -> Location:
    found = session.get(Location, document["id"])
    location = found or Location(id=document["id"])
    _track(session, f"location:{location.id}", created=found is None)
    apply_document(location, document, LOCATION_NESTED)
    published_owner = document.get("organization_id")
    if organization_id is None and published_owner and session.get(Organization, published_owner):
        organization_id = published_owner
    if organization_id is not None:
        location.organization_id = organization_id
    session.add(location)
    session.flush()
    node = f"location:{location.id}"
    _write_contacts_and_phones(session, document, root=node, parent=node)
    if "schedules" in document:
        _replace_owned(session, Schedule, document["schedules"], root=node, parent=node)
    return location


def write_service(
    session: Session, document: dict[str, Any], organization_id: str | None = None
) -> Service:
    if isinstance(document.get("organization"), dict):
        organization_id = write_organization(session, document["organization"]).id
    organization_id = organization_id or document.get("organization_id")
    if not organization_id:
        raise RecordRejected("no organization: give an organization or an organization_id")
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise RecordRejected(f"organization_id {organization_id!r} is not in the directory")

    found = session.get(Service, document["id"])
    service = found or Service(
        id=document["id"], organization_id=organization_id, name=document["name"]
    )
    _track(session, f"service:{service.id}", created=found is None)
    service.organization_id = organization_id
    apply_document(service, document, SERVICE_NESTED)
    session.add(service)
    # Flushed at once: the unit of work does not order inserts by foreign keys between
    # mappers without relationships, and the rows added next refer to this one.
    session.flush()
    node = f"service:{service.id}"
    _write_contacts_and_phones(session, document, root=node, parent=node)
    for key, model in (("schedules", Schedule), ("cost_options", CostOption)):
        if key in document:
            _replace_owned(session, model, document[key], node, node, service_id=service.id)
    if "service_areas" in document:
        areas = _replace_owned(
            session, ServiceArea, document["service_areas"], node, node, service_id=service.id
        )
        index_districts(session, service.id, areas, _is_new(session, node))
    elif _is_new(session, node):
        index_districts(session, service.id, [], is_new=True)
    if "capacities" in document:
        _check_capacities(document["capacities"])
        _replace_owned(
            session, ServiceCapacity, document["capacities"], node, node, service_id=service.id
        )
    if "attributes" in document:
        _write_service_attributes(session, service, document["attributes"])
    if "service_at_locations" in document:
        _replace_service_at_locations(session, service, document["service_at_locations"])
    index_service(session, service, organization.name, _is_new(session, node))
    return service


def write_service_at_location_record(session: Session, document: dict[str, Any]) -> None:
    """A ``service_at_location`` published on its own, usually with its service embedded."""
    service_id = document.get("service_id")
    if isinstance(document.get("service"), dict):
        service_id = write_service(session, document["service"]).id
    if not service_id or session.get(Service, service_id) is None:
        raise RecordRejected(f"service {service_id!r} is not in the directory; embed the service")
    write_service_at_location(session, document, service_id, where="")


def write_service_at_location(
    session: Session, document: dict[str, Any], service_id: str, where: str
) -> ServiceAtLocation:
    location_id = document.get("location_id")
    if isinstance(document.get("location"), dict):
        location_id = write_location(session, document["location"]).id
    if not location_id or session.get(Location, location_id) is None:
        raise RecordRejected(f"{where}location {location_id!r} is not in the directory")
    found = session.get(ServiceAtLocation, document["id"])
    _track(session, f"service_at_location:{document['id']}", created=found is None)
    link = found or ServiceAtLocation(id=document["id"], service_id=service_id, location_id="")
    link.service_id, link.location_id = service_id, location_id
    apply_document(link, document, SERVICE_AT_LOCATION_NESTED)
    session.add(link)
    session.flush()
    root, node = f"service:{service_id}", f"service_at_location:{link.id}"
    _write_contacts_and_phones(session, document, root=root, parent=node)
    if "schedules" in document:
        _replace_owned(session, Schedule, document["schedules"], root=root, parent=node)
    return link


def write_taxonomy_term(session: Session, document: dict[str, Any]) -> None:
    if document["id"] in SOCIAL_PRESCRIBING_TERMS:
        return  # the shipped terms are socialrx's own; a copy in a file never rewrites them
    detail = document.get("taxonomy_detail")
    if _claims_social_prescribing(document):
        known = ", ".join(SOCIAL_PRESCRIBING_TERMS)
        raise RecordRejected(
            f"taxonomy term {document['id']!r} is not a social prescribing need; known: {known}"
        )
    term = session.get(TaxonomyTerm, document["id"]) or TaxonomyTerm(
        id=document["id"], name=document["name"]
    )
    apply_document(term, document, ("taxonomy_detail",))
    if isinstance(detail, dict):
        taxonomy = session.get(Taxonomy, detail["id"]) or Taxonomy(
            id=detail["id"], name=detail.get("name", "")
        )
        apply_document(taxonomy, detail)
        session.add(taxonomy)
        session.flush()
        term.taxonomy_id = taxonomy.id
    elif document.get("taxonomy_id") and session.get(Taxonomy, document["taxonomy_id"]):
        term.taxonomy_id = document["taxonomy_id"]
    session.add(term)
    session.flush()


def _claims_social_prescribing(term: dict[str, Any]) -> bool:
    detail = term.get("taxonomy_detail")
    detail_id = detail.get("id") if isinstance(detail, dict) else None
    return SOCIAL_PRESCRIBING_TAXONOMY_ID in (term.get("taxonomy_id"), detail_id)


def _write_service_attributes(
    session: Session, service: Service, documents: Sequence[dict[str, Any]]
) -> None:
    term_ids: list[str | None] = []
    for number, attribute in enumerate(documents):
        term_id = attribute.get("taxonomy_term_id")
        if isinstance(attribute.get("taxonomy_term"), dict):
            write_taxonomy_term(session, attribute["taxonomy_term"])
            term_id = attribute["taxonomy_term"]["id"]
        if term_id is not None and session.get(TaxonomyTerm, term_id) is None:
            raise RecordRejected(
                f"$.attributes[{number}]: unknown taxonomy term {term_id!r}; import the term "
                "first or embed it as taxonomy_term"
            )
        term_ids.append(term_id)
    node = f"service:{service.id}"
    rows = _replace_owned(
        session, Attribute, documents, node, node, ("taxonomy_term",), service_id=service.id
    )
    for row, term_id in zip(rows, term_ids, strict=True):
        row.taxonomy_term_id = term_id


def _replace_service_at_locations(
    session: Session, service: Service, documents: Sequence[dict[str, Any]]
) -> None:
    kept = {document["id"] for document in documents}
    if _is_new(session, f"service:{service.id}"):
        stale: Sequence[ServiceAtLocation] = []
    else:
        stale = session.exec(
            select(ServiceAtLocation).where(
                ServiceAtLocation.service_id == service.id, col(ServiceAtLocation.id).not_in(kept)
            )
        ).all()
    for link in stale:
        node = f"service_at_location:{link.id}"
        _delete_owned(session, Contact, node)
        for model in (Phone, Schedule):
            session.exec(delete(model).where(col(model.parent) == node))
        session.delete(link)
    for number, document in enumerate(documents):
        where = f"$.service_at_locations[{number}]: "
        write_service_at_location(session, document, service.id, where)


def _write_contacts_and_phones(
    session: Session, document: dict[str, Any], root: str, parent: str
) -> None:
    if "phones" in document:
        _replace_owned(session, Phone, document["phones"], root=root, parent=parent)
    if "contacts" in document:
        _delete_owned(session, Contact, parent)
        contacts = _replace_owned(session, Contact, document["contacts"], root, parent, ("phones",))
        for contact, contact_document in zip(contacts, document["contacts"], strict=True):
            if "phones" in contact_document:
                contact_node = f"{parent}/contact:{contact.id}"
                _replace_owned(session, Phone, contact_document["phones"], root, contact_node)


def _delete_owned(session: Session, model: type[Contact], parent: str) -> None:
    """Delete a parent's contacts together with the phones nested in them."""
    if _is_new(session, parent):
        return
    contact_ids = session.exec(select(model.id).where(model.parent == parent)).all()
    contact_nodes = [f"{parent}/contact:{contact_id}" for contact_id in contact_ids]
    if contact_nodes:
        session.exec(delete(Phone).where(col(Phone.parent).in_(contact_nodes)))
    session.exec(delete(model).where(col(model.parent) == parent))


def _replace_owned(
    session: Session,
    model: type[Owned],
    documents: Sequence[dict[str, Any]],
    root: str,
    parent: str,
    nested: Sequence[str] = (),
    **columns: Any,
) -> list[Owned]:
    if not _is_new(session, parent):
        session.exec(delete(model).where(col(model.parent) == parent))
    rows = []
    for position, document in enumerate(documents):
        row = model(id=document["id"], root=root, parent=parent, position=position, **columns)
        apply_document(row, document, nested)
        session.add(row)
        rows.append(row)
    return rows


def _track(session: Session, node: str, created: bool) -> None:
    """Remember which entities this session created: they own no rows yet, so replacing
    their collections needs no DELETE. That halves the statements of a first import."""
    created_nodes: set[str] = session.info.setdefault("created_nodes", set())
    if created:
        created_nodes.add(node)
    else:
        created_nodes.discard(node)


def _is_new(session: Session, parent: str) -> bool:
    # "service:<id>/contact:<id>" is new when the service is.
    return parent.split("/", 1)[0] in session.info.get("created_nodes", set())


def _check_capacities(documents: Sequence[dict[str, Any]]) -> None:
    # ``capacities`` is HSDS 3.1; the 3.0 schema does not describe it, so it is checked here.
    for number, capacity in enumerate(documents):
        if not isinstance(capacity, dict) or not isinstance(capacity.get("id"), str):
            raise RecordRejected(f"$.capacities[{number}]: needs an id")
        available = capacity.get("available")
        if not isinstance(available, int | float) or available < 0:
            raise RecordRejected(f"$.capacities[{number}].available: must be a number >= 0")
