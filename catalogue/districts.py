"""Which services serve a postcode district, answered from the ``service_district`` index."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlmodel import Session, col, delete, select

from catalogue.geocode import POSTCODE_DISTRICTS, area_entries, postcode_area
from catalogue.tables import ServiceArea, ServiceDistrict

# The entry of a service that states no district restriction: it serves everyone.
ANYWHERE = "*"


def serving_district(district: str) -> Select[Any]:
    """Ids of the services that state no district list or whose list covers ``district``
    (the same rule as ``geocode.area_covers``)."""
    entries = [district, postcode_area(district), ANYWHERE]
    return select(ServiceDistrict.service_id).where(col(ServiceDistrict.district).in_(entries))


def index_districts(
    session: Session, service_id: str, areas: Sequence[ServiceArea], is_new: bool
) -> None:
    """Rewrite a service's entries from its service areas (no commit)."""
    if not is_new:
        session.exec(delete(ServiceDistrict).where(col(ServiceDistrict.service_id) == service_id))
    restricted = [area for area in areas if area.extent_type == POSTCODE_DISTRICTS]
    entries = {entry for area in restricted for entry in area_entries(area.extent)}
    if not restricted:
        entries = {ANYWHERE}
    session.add_all(ServiceDistrict(district=entry, service_id=service_id) for entry in entries)
