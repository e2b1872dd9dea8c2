"""Suggest services for the needs recorded in the "what matters" conversation, and explain why.

Candidates are the services tagged with at least one of the needs. A candidate is left out when
its status is not active, its ages or service areas exclude the person, it has no place and no
waiting list, or it does not run the way (in person, online) or on the days the person can
attend; every reason that applies is given. The others are ranked by how many needs they meet,
then by distance from the origin to their nearest in-person location (when both are known),
then by freshness (the later of assured_date and last_modified).
"""

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, not_
from sqlmodel import Session, col, select

from catalogue.districts import serving_district
from catalogue.geocode import (
    Geocoder,
    GeoPoint,
    area_covers,
    distance_m,
    postcode_district,
)
from catalogue.service_facts import (
    WEEKDAYS,
    AttendanceMode,
    CapacityState,
    ServiceFacts,
    load_facts,
)
from catalogue.tables import Attribute, TaxonomyTerm


class Weekday(StrEnum):
    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"


class ModePreference(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    ANY = "any"


class MatchRequest(BaseModel):
    needs: list[str] = Field(min_length=1, description="Taxonomy term ids, e.g. sp-arts.")
    age: int | None = Field(default=None, ge=0, le=130)
    postcode_district: str | None = Field(
        default=None, description="e.g. MB3; a full postcode is reduced to its district."
    )
    origin: GeoPoint | None = Field(
        default=None, description="Where distance is measured from: the practice or a given point."
    )
    origin_postcode: str | None = Field(
        default=None, description="Used through the geocoder when origin is not given."
    )
    mode: ModePreference = ModePreference.ANY
    days: list[Weekday] | None = Field(default=None, description="Days the person can attend.")
    limit: int = Field(default=10, ge=1, le=100)
    excluded_limit: int = Field(default=20, ge=0, le=500)


class ExclusionCode(StrEnum):
    NOT_ACTIVE = "not_active"
    AGE = "age"
    AREA = "area"
    NO_CAPACITY = "no_capacity"
    MODE = "mode"
    DAYS = "days"


class ExclusionReason(BaseModel):
    code: ExclusionCode
    detail: str


class Freshness(BaseModel):
    assured_date: date | None
    last_modified: datetime | None
    as_of: date | None


class Suggestion(BaseModel):
    service_id: str
    name: str
    organization_id: str
    organization_name: str
    met_needs: list[str]
    unmet_needs: list[str]
    distance_m: float | None
    nearest_location_id: str | None
    capacity: CapacityState
    places_available: int | None
    modes: list[AttendanceMode]
    freshness: Freshness
    explanation: list[str]


class Exclusion(BaseModel):
    service_id: str
    name: str
    organization_id: str
    met_needs: list[str]
    reasons: list[ExclusionReason]


class MatchResult(BaseModel):
    suggestions: list[Suggestion]
    excluded: list[Exclusion] = Field(description="The best-matching services left out, and why.")
    excluded_count: int
    unknown_needs: list[str]
    needs_without_suggestion: list[str]


def suggest(
    session: Session, request: MatchRequest, geocoder: Geocoder | None = None
) -> MatchResult:
    names = dict(
        session.exec(
            select(TaxonomyTerm.id, TaxonomyTerm.name).where(
                col(TaxonomyTerm.id).in_(request.needs)
            )
        ).all()
    )
    known = set(names)
    needs = [need for need in dict.fromkeys(request.needs) if need in known]
    tagged = [col(Attribute.taxonomy_term_id).in_(needs), col(Attribute.service_id).is_not(None)]
    # Out-of-area services are left in the database, so the work grows with the services
    # around the person rather than with the directory; the best few are still explained.
    district = postcode_district(request.postcode_district) if request.postcode_district else None
    in_area = _serves(district) if district else None
    only_counted = 0
    if in_area is None:
        met = _met_needs(session, tagged)
        facts = load_facts(session, select(Attribute.service_id).where(*tagged).distinct())
    else:
        met = _met_needs(session, [*tagged, in_area])
        candidates = session.exec(
            select(func.count(col(Attribute.service_id).distinct())).where(*tagged)
        ).one()
        explained: list[str] = []
        if candidates > len(met):
            sample = select(Attribute.service_id).where(*tagged, not_(in_area)).distinct()
            explained = [str(i) for i in session.exec(sample.limit(request.excluded_limit))]
            met |= _met_needs(session, [*tagged, col(Attribute.service_id).in_(explained)])
        only_counted = candidates - len(met)
        facts = load_facts(session, list(met))
    origin = request.origin or _geocode(geocoder, request.origin_postcode)

    # Rank and explain cheaply first; pydantic models are built only for what is returned.
    eligible: list[tuple[tuple[int, bool, float, int, str], ServiceFacts, float | None, str | None]]
    eligible = []
    excluded: list[tuple[tuple[int, str], ServiceFacts, list[ExclusionReason]]] = []
    for service in facts.values():
        met_count = len(met[service.service_id])
        reasons = exclusion_reasons(service, request)
        if reasons:
            excluded.append(((-met_count, service.name), service, reasons))
            continue
        distance, nearest = _nearest(origin, service)
        as_of = service.freshness
        rank = (
            -met_count,
            distance is None,
            distance or 0.0,
            -(as_of.toordinal() if as_of else 0),
            service.name,
        )
        eligible.append((rank, service, distance, nearest))
    eligible.sort(key=lambda entry: entry[0])
    excluded.sort(key=lambda entry: entry[0])
    covered = {need for _, service, _, _ in eligible for need in met[service.service_id]}

    def met_needs(service: ServiceFacts) -> list[str]:
        return [need for need in needs if need in met[service.service_id]]

    return MatchResult(
        suggestions=[
            _suggestion(service, needs, met_needs(service), distance, nearest, names)
            for _, service, distance, nearest in eligible[: request.limit]
        ],
        excluded=[
            Exclusion(
                service_id=service.service_id,
                name=service.name,
                organization_id=service.organization_id,
                met_needs=met_needs(service),
                reasons=reasons,
            )
            for _, service, reasons in excluded[: request.excluded_limit]
        ],
        excluded_count=len(excluded) + only_counted,
        unknown_needs=[need for need in request.needs if need not in known],
        needs_without_suggestion=[need for need in needs if need not in covered],
    )


def _met_needs(session: Session, conditions: Sequence[ColumnElement[bool]]) -> dict[str, set[str]]:
    met: dict[str, set[str]] = {}
    rows = session.exec(select(Attribute.service_id, Attribute.taxonomy_term_id).where(*conditions))
    for service_id, term_id in rows:
        met.setdefault(str(service_id), set()).add(str(term_id))
    return met


def _serves(district: str) -> ColumnElement[bool]:
    return col(Attribute.service_id).in_(serving_district(district))


def _nearest(origin: GeoPoint | None, service: ServiceFacts) -> tuple[float | None, str | None]:
    """Distance to the nearest in-person location, and its id, when both ends are known."""
    if origin is None or not service.in_person_points:
        return None, None
    distance, nearest = min(
        (distance_m(origin, point), location_id) for location_id, point in service.in_person_points
    )
    return distance, nearest


def exclusion_reasons(service: ServiceFacts, request: MatchRequest) -> list[ExclusionReason]:
    """Every rule that leaves ``service`` out for this person; empty when none does."""
    reasons = []

    def because(code: ExclusionCode, detail: str) -> None:
        reasons.append(ExclusionReason(code=code, detail=detail))

    if service.status != "active":
        because(ExclusionCode.NOT_ACTIVE, f"status is {service.status!r}, not 'active'")
    if request.age is not None:
        low, high = service.minimum_age, service.maximum_age
        if (low is not None and request.age < low) or (high is not None and request.age > high):
            because(
                ExclusionCode.AGE, f"for ages {_age_range(low, high)}; the person is {request.age}"
            )
    if request.postcode_district and service.area is not None:
        district = postcode_district(request.postcode_district)
        if not any(area_covers(entry, district) for entry in service.area):
            areas = ", ".join(service.area) or "no district"
            because(ExclusionCode.AREA, f"serves {areas}; the person lives in {district}")
    if service.capacity is CapacityState.FULL:
        because(ExclusionCode.NO_CAPACITY, "no places available and no waiting list")
    if request.mode is not ModePreference.ANY and service.modes:
        wanted = AttendanceMode(request.mode.value)
        if wanted not in service.modes:
            offered = " or ".join(sorted(mode.value.replace("_", " ") for mode in service.modes))
            because(ExclusionCode.MODE, f"only {offered}; the person prefers {_words(wanted)}")
    if request.days and service.days and not service.days & {day.value for day in request.days}:
        runs = ", ".join(day for day in WEEKDAYS if day in service.days)
        can = ", ".join(day.value for day in request.days)
        because(ExclusionCode.DAYS, f"runs on {runs}; the person can attend {can}")
    return reasons


def _suggestion(
    service: ServiceFacts,
    needs: list[str],
    met_needs: list[str],
    distance: float | None,
    nearest: str | None,
    names: dict[str, str],
) -> Suggestion:
    met_names = ", ".join(names[need] for need in met_needs)
    explanation = [f"meets {len(met_needs)} of {len(needs)} needs: {met_names}"]
    if distance is not None:
        explanation.append(f"nearest in-person location is {distance / 1000:.1f} km away")
    if service.capacity is CapacityState.WAITING_LIST:
        explanation.append("no places now: the person would join a waiting list")
    elif service.capacity is CapacityState.UNKNOWN:
        explanation.append("capacity not published; ask the organisation")
    if service.freshness:
        explanation.append(f"directory entry checked or updated on {service.freshness}")
    return Suggestion(
        service_id=service.service_id,
        name=service.name,
        organization_id=service.organization_id,
        organization_name=service.organization_name,
        met_needs=met_needs,
        unmet_needs=[need for need in needs if need not in met_needs],
        distance_m=None if distance is None else round(distance, 1),
        nearest_location_id=nearest,
        capacity=service.capacity,
        places_available=service.places_available,
        modes=sorted(service.modes),
        freshness=Freshness(
            assured_date=service.assured_date,
            last_modified=service.last_modified,
            as_of=service.freshness,
        ),
        explanation=explanation,
    )


def _geocode(geocoder: Geocoder | None, postcode: str | None) -> GeoPoint | None:
    return geocoder.locate(postcode) if geocoder and postcode else None


def _age_range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g} to {high:g}"
    return f"{low:g} and over" if low is not None else f"up to {high:g}"


def _words(mode: AttendanceMode) -> str:
    return mode.value.replace("_", " ")
