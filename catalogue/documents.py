"""Build HSDS 3.0 documents from the tables: what export writes and the API serves.

A full document nests everything the directory holds about the entity, in the shape of the
official examples; a list document (``/services``, ``/organizations``) has the one-to-one
fields only. Collections are written when they have rows.
"""

from collections import defaultdict
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from catalogue.hsds_fields import render_row
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

Document = dict[str, Any]
Owned = TypeVar("Owned", bound=OwnedRow)

_SERVICE_COLLECTIONS: tuple[tuple[str, type[OwnedRow]], ...] = (
    ("phones", Phone),
    ("schedules", Schedule),
    ("service_areas", ServiceArea),
    ("capacities", ServiceCapacity),
    ("cost_options", CostOption),
)


def one_to_one(document: Document) -> Document:
    """The list form of a document: its fields that are not arrays."""
    return {key: value for key, value in document.items() if not isinstance(value, list)}


class DocumentBuilder:
    """Builds documents for one session, reusing the organizations and locations it has built."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._organizations: dict[tuple[str, bool], Document] = {}
        self._locations: dict[str, Document] = {}

    def service(self, service: Service, *, with_organization: bool = True) -> Document:
        owned = self._owned_under(f"service:{service.id}")
        node = f"service:{service.id}"
        document = render_row(service)
        for key, model in _SERVICE_COLLECTIONS:
            _put(document, key, [render_row(row) for row in owned[model].get(node, [])])
        _put(document, "contacts", self._contacts(owned, node))
        _put(
            document, "attributes", [self._attribute(row) for row in owned[Attribute].get(node, [])]
        )
        links = self.session.exec(
            select(ServiceAtLocation)
            .where(ServiceAtLocation.service_id == service.id)
            .order_by(col(ServiceAtLocation.id))
        ).all()
        _put(document, "service_at_locations", [self._link(link, owned) for link in links])
        if with_organization:
            organization = self.session.get(Organization, service.organization_id)
            if organization is not None:
                document["organization"] = self.organization(organization)
        return document

    def service_list_item(self, service: Service, organization: Organization | None) -> Document:
        document = one_to_one(render_row(service))
        if organization is not None:
            document["organization"] = one_to_one(render_row(organization))
        return document

    def organization(self, organization: Organization, *, with_services: bool = False) -> Document:
        key = (organization.id, with_services)
        if key not in self._organizations:
            node = f"organization:{organization.id}"
            document = render_row(organization)
            owned = self._owned_under(node)
            _put(document, "contacts", self._contacts(owned, node))
            _put(document, "phones", [render_row(row) for row in owned[Phone].get(node, [])])
            locations = self.session.exec(
                select(Location)
                .where(Location.organization_id == organization.id)
                .order_by(col(Location.id))
            ).all()
            _put(document, "locations", [self.location(location) for location in locations])
            if with_services:
                services = self.session.exec(
                    select(Service)
                    .where(Service.organization_id == organization.id)
                    .order_by(col(Service.id))
                ).all()
                _put(
                    document,
                    "services",
                    [self.service(service, with_organization=False) for service in services],
                )
            self._organizations[key] = document
        return self._organizations[key]

    def location(self, location: Location) -> Document:
        if location.id not in self._locations:
            node = f"location:{location.id}"
            owned = self._owned_under(node)
            document = render_row(location)
            _put(document, "contacts", self._contacts(owned, node))
            _put(document, "phones", [render_row(row) for row in owned[Phone].get(node, [])])
            _put(document, "schedules", [render_row(r) for r in owned[Schedule].get(node, [])])
            self._locations[location.id] = document
        return self._locations[location.id]

    def service_at_location(self, link: ServiceAtLocation, *, full: bool = True) -> Document:
        """A service-at-location with its service; ``full`` False gives the list form."""
        service = self.session.get(Service, link.service_id)
        owned = self._owned_under(f"service:{link.service_id}")
        document = self._link(link, owned)
        if service is not None:
            if full:
                document["service"] = self.service(service)
                document["service"].pop("service_at_locations", None)
            else:
                organization = self.session.get(Organization, service.organization_id)
                document["service"] = self.service_list_item(service, organization)
        if not full:
            document = one_to_one(document)
        return document

    def taxonomy_term(self, term: TaxonomyTerm) -> Document:
        document = render_row(term)
        if term.taxonomy_id:
            taxonomy = self.session.get(Taxonomy, term.taxonomy_id)
            if taxonomy is not None:
                document["taxonomy_detail"] = render_row(taxonomy)
        return document

    def _link(
        self, link: ServiceAtLocation, owned: dict[type[OwnedRow], dict[str, list[OwnedRow]]]
    ) -> Document:
        node = f"service_at_location:{link.id}"
        document = render_row(link)
        _put(document, "contacts", self._contacts(owned, node))
        _put(document, "phones", [render_row(row) for row in owned[Phone].get(node, [])])
        _put(document, "schedules", [render_row(row) for row in owned[Schedule].get(node, [])])
        location = self.session.get(Location, link.location_id)
        if location is not None:
            document["location"] = self.location(location)
        return document

    def _attribute(self, attribute: OwnedRow) -> Document:
        document = render_row(attribute)
        term_id = document.get("taxonomy_term_id")
        term = self.session.get(TaxonomyTerm, term_id) if term_id else None
        if term is not None:
            document["taxonomy_term"] = self.taxonomy_term(term)
        return document

    def _contacts(
        self, owned: dict[type[OwnedRow], dict[str, list[OwnedRow]]], parent: str
    ) -> list[Document]:
        contacts = []
        for contact in owned[Contact].get(parent, []):
            document = render_row(contact)
            phones = owned[Phone].get(f"{parent}/contact:{contact.id}", [])
            _put(document, "phones", [render_row(phone) for phone in phones])
            contacts.append(document)
        return contacts

    def _owned_under(self, root: str) -> dict[type[OwnedRow], dict[str, list[OwnedRow]]]:
        """Every owned row hanging from ``root``, grouped by model and parent, in order."""
        grouped: dict[type[OwnedRow], dict[str, list[OwnedRow]]] = {}
        models: tuple[type[OwnedRow], ...] = (
            Contact,
            Attribute,
            *(m for _, m in _SERVICE_COLLECTIONS),
        )
        for model in models:
            rows = self.session.exec(
                select(model).where(model.root == root).order_by(col(model.position))
            ).all()
            by_parent: dict[str, list[OwnedRow]] = defaultdict(list)
            for row in rows:
                by_parent[row.parent].append(row)
            grouped[model] = by_parent
        return grouped


def _put(document: Document, key: str, items: list[Document]) -> None:
    if items:
        document[key] = items
