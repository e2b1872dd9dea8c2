"""What matching needs to know about each candidate service, read in a few set-based queries.

Facts are derived from HSDS as published: attendance modes from location types (``physical``,
``virtual``) and schedule ``attending_type`` text; days from schedule ``byday``; areas from
service areas whose ``extent_type`` is ``postcode_districts``; capacity from ``capacities``.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Select, String, literal, select
from sqlmodel import Session, col

from catalogue.geocode import POSTCODE_DISTRICTS, GeoPoint, area_entries
from catalogue.tables import (
    Location,
    Organization,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceCapacity,
)

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_ONLINE_WORDS = re.compile(r"online|video|phone|remote|virtual|zoom|teams", re.IGNORECASE)
_IN_PERSON_WORDS = re.compile(r"in[ -]person|face[ -]to[ -]face|drop[ -]in", re.IGNORECASE)


class AttendanceMode(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class CapacityState(StrEnum):
    AVAILABLE = "available"
    WAITING_LIST = "waiting_list"
    FULL = "full"
    UNKNOWN = "unknown"


@dataclass
class ServiceFacts:
    service_id: str
    name: str
    organization_id: str
    organization_name: str
    status: str
    minimum_age: float | None
    maximum_age: float | None
    assured_date: date | None
    last_modified: datetime | None
    # None: the service states no district restriction it can be checked against.
    area: list[str] | None = None
    capacity: CapacityState = CapacityState.UNKNOWN
    places_available: int | None = None
    modes: set[AttendanceMode] = field(default_factory=set)
    days: set[str] = field(default_factory=set)
    in_person_points: list[tuple[str, GeoPoint]] = field(default_factory=list)

    @property
    def freshness(self) -> date | None:
        """The latest of when the entry was assured and when it was last modified."""
        moments = [self.assured_date, self.last_modified.date() if self.last_modified else None]
        known = [moment for moment in moments if moment is not None]
        return max(known) if known else None


def load_facts(session: Session, service_ids: Select[Any] | list[str]) -> dict[str, ServiceFacts]:
    """Facts for the services whose ids ``service_ids`` (a one-column select, or a list)
    names."""
    if isinstance(service_ids, list) and not service_ids:
        return {}
    # Core on the session's connection: plain tuples, and no limit on the number of columns.
    connection = session.connection()
    facts: dict[str, ServiceFacts] = {}
    rows = connection.execute(
        select(
            col(Service.id),
            col(Service.name),
            col(Service.organization_id),
            col(Organization.name),
            col(Service.status),
            col(Service.minimum_age),
            col(Service.maximum_age),
            col(Service.assured_date),
            col(Service.last_modified),
        )
        .join(Organization, col(Organization.id) == col(Service.organization_id))
        .where(col(Service.id).in_(service_ids))
    )
    for row in rows:
        modified = row[8]
        if modified is not None and modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)
        facts[row[0]] = ServiceFacts(
            service_id=row[0],
            name=row[1],
            organization_id=row[2],
            organization_name=row[3],
            status=row[4],
            minimum_age=row[5],
            maximum_age=row[6],
            assured_date=row[7],
            last_modified=modified,
        )
    _add_areas(connection, service_ids, facts)
    _add_capacity(connection, service_ids, facts)
    _add_schedules(connection, service_ids, facts)
    _add_locations(connection, service_ids, facts)
    return facts


def _add_areas(
    connection: Connection, ids: Select[Any] | list[str], facts: dict[str, ServiceFacts]
) -> None:
    rows = connection.execute(
        select(col(ServiceArea.service_id), col(ServiceArea.extent)).where(
            col(ServiceArea.service_id).in_(ids), col(ServiceArea.extent_type) == POSTCODE_DISTRICTS
        )
    )
    for service_id, extent in rows:
        entries = area_entries(extent)
        service = facts[service_id]
        service.area = [*(service.area or []), *entries]


def _add_capacity(
    connection: Connection, ids: Select[Any] | list[str], facts: dict[str, ServiceFacts]
) -> None:
    rows = connection.execute(
        select(
            col(ServiceCapacity.service_id),
            col(ServiceCapacity.available),
            col(ServiceCapacity.waiting_list),
        ).where(col(ServiceCapacity.service_id).in_(ids))
    )
    places: dict[str, float] = defaultdict(float)
    waiting: dict[str, bool] = defaultdict(bool)
    for service_id, available, waiting_list in rows:
        places[service_id] += available
        waiting[service_id] |= bool(waiting_list)
    for service_id, total in places.items():
        service = facts[service_id]
        service.places_available = int(total)
        if total > 0:
            service.capacity = CapacityState.AVAILABLE
        elif waiting[service_id]:
            service.capacity = CapacityState.WAITING_LIST
        else:
            service.capacity = CapacityState.FULL


def _add_schedules(
    connection: Connection, ids: Select[Any] | list[str], facts: dict[str, ServiceFacts]
) -> None:
    # Schedules of a service and of its service-at-locations share the root "service:<id>".
    if isinstance(ids, list):
        roots: Select[Any] | list[str] = [f"service:{service_id}" for service_id in ids]
    else:
        candidates = ids.subquery()
        roots = select(literal("service:", String) + candidates.c[0])
    rows = connection.execute(
        select(col(Schedule.root), col(Schedule.byday), col(Schedule.attending_type)).where(
            col(Schedule.root).in_(roots)
        )
    )
    for root, byday, attending_type in rows:
        service = facts[root.removeprefix("service:")]
        for day in (byday or "").split(","):
            weekday = day.strip().lstrip("+-0123456789").upper()
            if weekday in WEEKDAYS:
                service.days.add(weekday)
        if attending_type and _ONLINE_WORDS.search(attending_type):
            service.modes.add(AttendanceMode.ONLINE)
        if attending_type and _IN_PERSON_WORDS.search(attending_type):
            service.modes.add(AttendanceMode.IN_PERSON)


def _add_locations(
    connection: Connection, ids: Select[Any] | list[str], facts: dict[str, ServiceFacts]
) -> None:
    rows = connection.execute(
        select(
            col(ServiceAtLocation.service_id),
            col(Location.id),
            col(Location.location_type),
            col(Location.latitude),
            col(Location.longitude),
        )
        .join(Location, col(Location.id) == col(ServiceAtLocation.location_id))
        .where(col(ServiceAtLocation.service_id).in_(ids))
    )
    for service_id, location_id, location_type, latitude, longitude in rows:
        service = facts[service_id]
        if location_type == "virtual":
            service.modes.add(AttendanceMode.ONLINE)
        elif location_type == "physical":
            service.modes.add(AttendanceMode.IN_PERSON)
            if latitude is not None and longitude is not None:
                try:
                    point = GeoPoint(latitude=latitude, longitude=longitude)
                except ValueError:
                    continue  # published coordinates off the globe tell us nothing
                service.in_person_points.append((location_id, point))
