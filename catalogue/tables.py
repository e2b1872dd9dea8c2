"""HSDS 3.0 tables of the community-service directory.

Each table has typed columns for the HSDS fields that pages, search and matching use, and an
``hsds_extra`` JSON column for the rest of the published record (languages, addresses,
funding, programs, metadata, ...). Export puts both back together, so a record round-trips
without losing a field it was published with.

Organizations, services, locations, service-at-locations, taxonomies and terms have globally
unique ids and are upserted by id. The smaller entities (schedules, phones, contacts, ...)
belong to the record they were published in: HSDS examples repeat the same phone or schedule
under a service, its location and its organization, so these rows are keyed by a surrogate
``pk`` and carry the path of their ``parent`` (e.g. ``service:<id>``) and the table-backed
entity they hang from, ``root``.
"""

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel


# sa_type rather than sa_column: a Column object cannot be shared by the tables of a base class.
def _extra() -> Any:
    return Field(default_factory=dict, sa_type=JSON, nullable=False)


def _text() -> Any:
    return Field(default=None, sa_type=Text, nullable=True)


class HsdsRow(SQLModel):
    """The JSON keys stored in typed columns; every other published key lives in hsds_extra."""

    HSDS_COLUMNS: ClassVar[tuple[str, ...]] = ()


class Organization(HsdsRow, table=True):
    HSDS_COLUMNS = ("id", "name", "alternate_name", "description", "email", "website", "uri")
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    alternate_name: str | None = Field(default=None, max_length=300)
    description: str | None = _text()
    email: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=300)
    uri: str | None = Field(default=None, max_length=300)
    hsds_extra: dict[str, Any] = _extra()


class Service(HsdsRow, table=True):
    HSDS_COLUMNS = (
        "id",
        "name",
        "alternate_name",
        "description",
        "url",
        "email",
        "status",
        "eligibility_description",
        "minimum_age",
        "maximum_age",
        "assured_date",
        "assurer_email",
        "alert",
        "last_modified",
    )
    id: str = Field(primary_key=True, max_length=64)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=300, index=True)
    alternate_name: str | None = Field(default=None, max_length=300)
    description: str | None = _text()
    url: str | None = Field(default=None, max_length=300)
    status: str = Field(default="active", max_length=32, index=True)
    email: str | None = Field(default=None, max_length=200)
    eligibility_description: str | None = _text()
    minimum_age: float | None = None
    maximum_age: float | None = None
    assured_date: date | None = None
    assurer_email: str | None = Field(default=None, max_length=200)
    alert: str | None = _text()
    last_modified: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True, index=True)
    )
    hsds_extra: dict[str, Any] = _extra()


class Location(HsdsRow, table=True):
    HSDS_COLUMNS = (
        "id",
        "location_type",
        "name",
        "alternate_name",
        "description",
        "latitude",
        "longitude",
    )
    __table_args__ = (Index("ix_location_coordinates", "latitude", "longitude"),)
    id: str = Field(primary_key=True, max_length=64)
    organization_id: str | None = Field(default=None, foreign_key="organization.id", index=True)
    location_type: str = Field(default="physical", max_length=32)
    name: str | None = Field(default=None, max_length=300)
    alternate_name: str | None = Field(default=None, max_length=300)
    description: str | None = _text()
    latitude: float | None = None
    longitude: float | None = None
    hsds_extra: dict[str, Any] = _extra()


class ServiceAtLocation(HsdsRow, table=True):
    __tablename__ = "service_at_location"
    HSDS_COLUMNS = ("id", "description")
    id: str = Field(primary_key=True, max_length=64)
    service_id: str = Field(foreign_key="service.id", index=True)
    location_id: str = Field(foreign_key="location.id", index=True)
    description: str | None = _text()
    hsds_extra: dict[str, Any] = _extra()


class Taxonomy(HsdsRow, table=True):
    HSDS_COLUMNS = ("id", "name", "description", "uri", "version")
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    description: str | None = _text()
    uri: str | None = Field(default=None, max_length=300)
    version: str | None = Field(default=None, max_length=64)
    hsds_extra: dict[str, Any] = _extra()


class TaxonomyTerm(HsdsRow, table=True):
    __tablename__ = "taxonomy_term"
    HSDS_COLUMNS = (
        "id",
        "code",
        "name",
        "description",
        "parent_id",
        "taxonomy",
        "language",
        "term_uri",
    )
    id: str = Field(primary_key=True, max_length=64)
    code: str | None = Field(default=None, max_length=100, index=True)
    name: str = Field(max_length=300)
    description: str | None = _text()
    # No foreign key: published terms name parents that are often not published with them.
    parent_id: str | None = Field(default=None, max_length=64, index=True)
    taxonomy: str | None = Field(default=None, max_length=300)
    taxonomy_id: str | None = Field(default=None, foreign_key="taxonomy.id", index=True)
    language: str | None = Field(default=None, max_length=16)
    term_uri: str | None = Field(default=None, max_length=300)
    hsds_extra: dict[str, Any] = _extra()


class OwnedRow(HsdsRow):
    """A row that belongs to the record it was published in (see the module docstring)."""

    pk: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=64, index=True)
    # Paths such as "service_at_location:<id>/contact:<id>", each id up to 64 characters.
    root: str = Field(max_length=200, index=True)
    parent: str = Field(max_length=200, index=True)
    position: int = 0
    hsds_extra: dict[str, Any] = _extra()


class Attribute(OwnedRow, table=True):
    """Links an entity to a taxonomy term; ``service_id`` is set when the entity is a service."""

    HSDS_COLUMNS = ("id", "taxonomy_term_id", "link_id", "link_type", "link_entity", "value")
    __table_args__ = (Index("ix_attribute_term_service", "taxonomy_term_id", "service_id"),)
    taxonomy_term_id: str | None = Field(default=None, foreign_key="taxonomy_term.id")
    service_id: str | None = Field(default=None, foreign_key="service.id", index=True)
    link_id: str | None = Field(default=None, max_length=64)
    link_type: str | None = Field(default=None, max_length=100)
    link_entity: str | None = Field(default=None, max_length=100)
    value: str | None = _text()


class Schedule(OwnedRow, table=True):
    HSDS_COLUMNS = (
        "id",
        "freq",
        "interval",
        "byday",
        "opens_at",
        "closes_at",
        "valid_from",
        "valid_to",
        "description",
        "attending_type",
        "notes",
    )
    freq: str | None = Field(default=None, max_length=16)
    interval: float | None = None
    byday: str | None = Field(default=None, max_length=100)
    opens_at: str | None = Field(default=None, max_length=16)
    closes_at: str | None = Field(default=None, max_length=16)
    valid_from: str | None = Field(default=None, max_length=32)
    valid_to: str | None = Field(default=None, max_length=32)
    description: str | None = _text()
    attending_type: str | None = _text()
    notes: str | None = _text()


class ServiceArea(OwnedRow, table=True):
    """Where a service is offered. ``extent_type`` ``postcode_districts`` (a socialrx
    convention) makes ``extent`` a comma-separated list of districts or areas, e.g. "MB1, MB2"."""

    __tablename__ = "service_area"
    HSDS_COLUMNS = ("id", "name", "description", "extent", "extent_type", "uri")
    service_id: str = Field(foreign_key="service.id", index=True)
    name: str | None = _text()
    description: str | None = _text()
    extent: str | None = _text()
    extent_type: str | None = Field(default=None, max_length=32)
    uri: str | None = Field(default=None, max_length=300)


class ServiceCapacity(OwnedRow, table=True):
    """Places available (HSDS 3.1 ``service_capacity``, published under ``capacities``).
    ``waiting_list`` is a socialrx extension: the service takes names when no place is free."""

    __tablename__ = "service_capacity"
    HSDS_COLUMNS = ("id", "available", "maximum", "description", "updated", "waiting_list")
    service_id: str = Field(foreign_key="service.id", index=True)
    available: float = 0
    maximum: float | None = None
    description: str | None = _text()
    updated: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    waiting_list: bool | None = None


class Contact(OwnedRow, table=True):
    HSDS_COLUMNS = ("id", "name", "title", "department", "email")
    name: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    department: str | None = Field(default=None, max_length=300)
    email: str | None = Field(default=None, max_length=200)


class Phone(OwnedRow, table=True):
    HSDS_COLUMNS = ("id", "number", "type", "description")
    number: str = Field(max_length=100)
    type: str | None = Field(default=None, max_length=32)
    description: str | None = _text()


class CostOption(OwnedRow, table=True):
    __tablename__ = "cost_option"
    HSDS_COLUMNS = (
        "id",
        "option",
        "currency",
        "amount",
        "amount_description",
        "valid_from",
        "valid_to",
    )
    service_id: str = Field(foreign_key="service.id", index=True)
    option: str | None = _text()
    currency: str | None = Field(default=None, max_length=8)
    amount: float | None = None
    amount_description: str | None = _text()
    valid_from: str | None = Field(default=None, max_length=32)
    valid_to: str | None = Field(default=None, max_length=32)


class ServiceDistrict(SQLModel, table=True):
    """Derived from service areas: each district or postcode area a service serves, or "*"
    when it states none. Matching starts from the person's district through this index, so
    its work grows with the services around the person, not with the directory."""

    __tablename__ = "service_district"
    district: str = Field(primary_key=True, max_length=16)
    service_id: str = Field(primary_key=True, foreign_key="service.id", index=True)


class ServiceSearchToken(SQLModel, table=True):
    """One word of a service's name, description or organisation name: a portable inverted
    index so ``/services?search=`` costs an index range scan, not a scan of every service."""

    __tablename__ = "service_search_token"
    token: str = Field(primary_key=True, max_length=64)
    service_id: str = Field(primary_key=True, foreign_key="service.id", index=True)
