"""The queries behind the HSDS API lists, each returning one page and the total count."""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from catalogue.districts import serving_district
from catalogue.geocode import (
    EARTH_RADIUS_M,
    GeoPoint,
    distance_m,
    postcode_district,
)
from catalogue.search_index import matches_search
from catalogue.tables import (
    Attribute,
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    request: PageRequest

    def envelope(self, contents: list[dict[str, Any]]) -> dict[str, Any]:
        """The HSDS paging envelope around ``contents`` (the documents of ``items``)."""
        total_pages = max(1, math.ceil(self.total / self.request.per_page))
        return {
            "total_items": self.total,
            "total_pages": total_pages,
            "page_number": self.request.page,
            "size": len(contents),
            "first_page": self.request.page == 1,
            "last_page": self.request.page >= total_pages,
            "empty": not contents,
            "contents": contents,
        }


@dataclass(frozen=True)
class ServiceFilter:
    search: str | None = None
    taxonomy_term_id: str | None = None
    organization_id: str | None = None
    modified_after: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.search:
            conditions.extend(matches_search(self.search))
        if self.taxonomy_term_id:
            tagged = select(Attribute.service_id).where(
                Attribute.taxonomy_term_id == self.taxonomy_term_id
            )
            conditions.append(col(Service.id).in_(tagged))
        if self.organization_id:
            conditions.append(col(Service.organization_id) == self.organization_id)
        if self.modified_after:
            conditions.append(col(Service.last_modified) >= self.modified_after)
        return conditions


def services_page(session: Session, where: ServiceFilter, page: PageRequest) -> Page[Service]:
    conditions = where.conditions()
    total = session.exec(select(func.count()).select_from(Service).where(*conditions)).one()
    services = session.exec(
        select(Service)
        .where(*conditions)
        .order_by(col(Service.name), col(Service.id))
        .offset(page.offset)
        .limit(page.per_page)
    ).all()
    return Page(list(services), total, page)


def organizations_page(
    session: Session, search: str | None, page: PageRequest
) -> Page[Organization]:
    conditions = [_words_in(col(Organization.name), search)] if search else []
    total = session.exec(select(func.count()).select_from(Organization).where(*conditions)).one()
    organizations = session.exec(
        select(Organization)
        .where(*conditions)
        .order_by(col(Organization.name), col(Organization.id))
        .offset(page.offset)
        .limit(page.per_page)
    ).all()
    return Page(list(organizations), total, page)


def taxonomy_terms_page(
    session: Session,
    search: str | None,
    taxonomy_id: str | None,
    parent_id: str | None,
    top_only: bool,
    page: PageRequest,
) -> Page[TaxonomyTerm]:
    conditions: list[ColumnElement[bool]] = []
    if search:
        conditions.append(_words_in(col(TaxonomyTerm.name), search))
    if taxonomy_id:
        conditions.append(col(TaxonomyTerm.taxonomy_id) == taxonomy_id)
    if parent_id:
        conditions.append(col(TaxonomyTerm.parent_id) == parent_id)
    if top_only:
        conditions.append(col(TaxonomyTerm.parent_id).is_(None))
    total = session.exec(select(func.count()).select_from(TaxonomyTerm).where(*conditions)).one()
    terms = session.exec(
        select(TaxonomyTerm)
        .where(*conditions)
        .order_by(col(TaxonomyTerm.name), col(TaxonomyTerm.id))
        .offset(page.offset)
        .limit(page.per_page)
    ).all()
    return Page(list(terms), total, page)


def services_at_locations_page(
    session: Session,
    where: ServiceFilter,
    page: PageRequest,
    postcode: str | None = None,
    near: GeoPoint | None = None,
    proximity_m: float | None = None,
) -> Page[ServiceAtLocation]:
    """Service-at-locations of the services ``where`` selects. With ``postcode``, only those
    whose service areas cover its district; with ``near`` and ``proximity_m``, only those
    within that distance, nearest first."""
    query = (
        select(ServiceAtLocation, Location)
        .join(Service, col(Service.id) == ServiceAtLocation.service_id)
        .join(Location, col(Location.id) == ServiceAtLocation.location_id)
        .where(*where.conditions())
    )
    if postcode:
        query = query.where(col(Service.id).in_(serving_district(postcode_district(postcode))))
    if near is not None and proximity_m is not None:
        query = query.where(*_bounding_box(near, proximity_m))
    rows = session.exec(query.order_by(col(Service.name), col(ServiceAtLocation.id))).all()
    if near is not None and proximity_m is not None:
        measured = [(_distance(near, location), link) for link, location in rows]
        kept = sorted(
            (d, link.id, link) for d, link in measured if d is not None and d <= proximity_m
        )
        links = [link for _, _, link in kept]
    else:
        links = [link for link, _ in rows]
    return Page(links[page.offset : page.offset + page.per_page], len(links), page)


def _bounding_box(centre: GeoPoint, radius_m: float) -> list[ColumnElement[bool]]:
    # A cheap, index-friendly pre-filter; the exact distance is checked afterwards.
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(centre.latitude)), 0.01)
    dlon = dlat / cos_lat
    box: list[ColumnElement[bool]] = [
        col(Location.latitude).between(centre.latitude - dlat, centre.latitude + dlat)
    ]
    if dlon < 180.0:
        box.append(
            col(Location.longitude).between(centre.longitude - dlon, centre.longitude + dlon)
        )
    return box


def _distance(origin: GeoPoint, location: Location) -> float | None:
    if location.latitude is None or location.longitude is None:
        return None
    try:
        return distance_m(
            origin, GeoPoint(latitude=location.latitude, longitude=location.longitude)
        )
    except ValueError:
        return None


def _words_in(column: Any, search: str) -> ColumnElement[bool]:
    # Organisations and terms are few; a case-insensitive substring match is enough for them.
    return func.lower(column).contains(search.strip().lower())
