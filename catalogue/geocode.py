"""Where a postcode is: the pluggable geocoder that distances and ``proximity`` rely on.

A geocoder turns a postcode (or just its district) into a point. The one shipped knows the
district centroids of the demo town; a deployment plugs in its own (e.g. one backed by the ONS
Postcode Directory) by passing any object with a ``locate`` method.
"""

import json
import math
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

EARTH_RADIUS_M = 6_371_008.8
_OUTWARD = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)")


class GeoPoint(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Geocoder(Protocol):
    def locate(self, postcode: str) -> GeoPoint | None:
        """The point of a full postcode or a district; None when unknown."""
        ...


def postcode_district(postcode: str) -> str:
    """The outward code of a UK postcode: ``"mb1 2ab"`` and ``"MB12AB"`` give ``"MB1"``."""
    if " " in postcode.strip():
        return postcode.strip().upper().split()[0]
    compact = postcode.strip().upper()
    if len(compact) >= 5:
        compact = compact[:-3]  # the inward code is always digit, letter, letter
    match = _OUTWARD.match(compact)
    return match.group(1) if match else compact


POSTCODE_DISTRICTS = "postcode_districts"


def area_entries(extent: str | None) -> list[str]:
    """The districts or areas of a ``postcode_districts`` extent such as "MB1, mb2"."""
    return [part.strip().upper() for part in (extent or "").split(",") if part.strip()]


def postcode_area(district: str) -> str:
    """The letters of a district: ``MB3`` is in area ``MB``."""
    letters = re.match(r"[A-Z]*", district.upper())
    return letters.group(0) if letters else ""


def area_covers(entry: str, district: str) -> bool:
    """Whether a service-area entry covers a district: ``MB3`` covers MB3, and a bare
    postcode area such as ``MB`` covers every MB district."""
    entry, district = entry.strip().upper(), district.strip().upper()
    if entry == district:
        return True
    return entry.isalpha() and re.fullmatch(rf"{entry}[0-9].*", district) is not None


def distance_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in metres (haversine)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


class DistrictCentroidGeocoder:
    """Locates a postcode at the centroid of its district."""

    def __init__(self, centroids: Mapping[str, GeoPoint]) -> None:
        self._centroids = {district.upper(): point for district, point in centroids.items()}

    def locate(self, postcode: str) -> GeoPoint | None:
        return self._centroids.get(postcode_district(postcode))


@cache
def demo_town_geocoder() -> DistrictCentroidGeocoder:
    """The districts of Millbrook, the invented town of the demo directory."""
    data = json.loads((Path(__file__).parent / "data" / "millbrook_districts.json").read_text())
    return DistrictCentroidGeocoder(
        {
            district: GeoPoint.model_validate(point)
            for district, point in data.items()
            if not district.startswith("_")
        }
    )
