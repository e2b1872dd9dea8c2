"""Matching: each filter leaves a service out with its reason, and each ranking rule orders
the suggestions. Services are built as in the demo file: by default active, for all ages and
areas, at loc-near (about 1 km from the MB1 centroid), on Mondays, capacity unpublished."""

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from catalogue.geocode import GeoPoint, demo_town_geocoder
from catalogue.matching import ExclusionCode, MatchRequest, MatchResult, suggest
from catalogue.service_facts import AttendanceMode, CapacityState
from tests.support.hsds import town_service

Add = Callable[..., Any]
MB1 = GeoPoint(latitude=52.3, longitude=-1.5)


def match(session: Session, **request: Any) -> MatchResult:
    return suggest(session, MatchRequest(**{"needs": ["sp-arts"], **request}), demo_town_geocoder())


def suggested(result: MatchResult) -> list[str]:
    return [suggestion.service_id for suggestion in result.suggestions]


def reasons(result: MatchResult) -> dict[str, set[ExclusionCode]]:
    return {e.service_id: {reason.code for reason in e.reasons} for e in result.excluded}


def test_only_active_services_are_suggested(session: Session, add_services: Add) -> None:
    add_services(
        town_service("svc-open"),
        town_service("svc-paused", status="inactive"),
        town_service("svc-closed", status="temporarily closed"),
    )
    result = match(session)
    assert suggested(result) == ["svc-open"]
    assert reasons(result) == {
        "svc-paused": {ExclusionCode.NOT_ACTIVE},
        "svc-closed": {ExclusionCode.NOT_ACTIVE},
    }
    assert result.excluded[0].reasons[0].detail.startswith("status is ")


def test_ages_exclude_the_person(session: Session, add_services: Add) -> None:
    add_services(
        town_service("svc-adults", ages=[18, None]),
        town_service("svc-young", ages=[11, 18]),
        town_service("svc-older", ages=[60, None]),
    )
    result = match(session, age=18)
    assert sorted(suggested(result)) == ["svc-adults", "svc-young"]
    detail = result.excluded[0].reasons[0].detail
    assert detail == "for ages 60 and over; the person is 18"
    assert sorted(suggested(match(session))) == ["svc-adults", "svc-older", "svc-young"]


def test_service_areas_exclude_the_person(session: Session, add_services: Add) -> None:
    add_services(
        town_service("svc-mb1", areas=["MB1"]),
        town_service("svc-whole-area", areas=["MB"]),
        town_service("svc-east", areas=["MB3", "MB4"]),
        town_service("svc-anywhere"),
    )
    result = match(session, postcode_district="mb1 2ab")
    assert sorted(suggested(result)) == ["svc-anywhere", "svc-mb1", "svc-whole-area"]
    assert reasons(result) == {"svc-east": {ExclusionCode.AREA}}
    assert result.excluded[0].reasons[0].detail == "serves MB3, MB4; the person lives in MB1"


def test_no_capacity_excludes_but_a_waiting_list_is_shown(
    session: Session, add_services: Add
) -> None:
    add_services(
        town_service("svc-places", capacity={"available": 4, "maximum": 10}),
        town_service("svc-waiting", capacity={"available": 0, "maximum": 10, "waiting_list": True}),
        town_service("svc-full", capacity={"available": 0, "maximum": 10}),
        town_service("svc-unpublished"),
    )
    result = match(session)
    states = {s.service_id: (s.capacity, s.places_available) for s in result.suggestions}
    assert states == {
        "svc-places": (CapacityState.AVAILABLE, 4),
        "svc-waiting": (CapacityState.WAITING_LIST, 0),
        "svc-unpublished": (CapacityState.UNKNOWN, None),
    }
    waiting = next(s for s in result.suggestions if s.service_id == "svc-waiting")
    assert "no places now: the person would join a waiting list" in waiting.explanation
    assert reasons(result) == {"svc-full": {ExclusionCode.NO_CAPACITY}}


def test_attendance_mode_preference(session: Session, add_services: Add) -> None:
    add_services(
        town_service("svc-hall"),
        town_service("svc-video", locations=[], online=True),
        town_service("svc-both", online=True),
    )
    online = match(session, mode="online")
    assert sorted(suggested(online)) == ["svc-both", "svc-video"]
    assert reasons(online) == {"svc-hall": {ExclusionCode.MODE}}
    assert online.excluded[0].reasons[0].detail == "only in person; the person prefers online"
    in_person = match(session, mode="in_person")
    assert sorted(suggested(in_person)) == ["svc-both", "svc-hall"]
    assert {m for s in in_person.suggestions for m in s.modes} == set(AttendanceMode)


def test_days_the_person_can_attend(session: Session, add_services: Add) -> None:
    add_services(
        town_service("svc-monday", days="MO"),
        town_service("svc-weekend", days="SA,SU"),
    )
    result = match(session, days=["SA", "WE"])
    assert suggested(result) == ["svc-weekend"]
    assert result.excluded[0].reasons[0].detail == "runs on MO; the person can attend SA, WE"


def test_every_reason_is_given(session: Session, add_services: Add) -> None:
    add_services(
        town_service(
            "svc-wrong",
            status="defunct",
            ages=[60, None],
            areas=["MB6"],
            capacity={"available": 0, "maximum": 5},
            days="FR",
        )
    )
    result = match(session, age=30, postcode_district="MB1", days=["MO"])
    assert reasons(result) == {"svc-wrong": set(ExclusionCode) - {ExclusionCode.MODE}}
    assert result.excluded_count == 1


def test_rank_by_needs_met_first(session: Session, add_services: Add) -> None:
    add_services(
        town_service("svc-one-need-near", needs=["sp-arts"]),
        town_service("svc-two-needs-far", needs=["sp-arts", "sp-nature"], locations=["loc-far"]),
    )
    result = match(session, needs=["sp-arts", "sp-nature", "sp-food"], origin=MB1)
    assert suggested(result) == ["svc-two-needs-far", "svc-one-need-near"]
    first = result.suggestions[0]
    assert (first.met_needs, first.unmet_needs) == (["sp-arts", "sp-nature"], ["sp-food"])
    assert (
        first.explanation[0] == "meets 2 of 3 needs: Arts and creativity, Nature and green spaces"
    )
    assert result.needs_without_suggestion == ["sp-food"]


def test_then_by_distance_from_the_origin(session: Session, add_services: Add) -> None:
    add_services(
        town_service("svc-far", locations=["loc-far"], modified="2025-06-01T00:00:00Z"),
        town_service("svc-near", locations=["loc-near"]),
        town_service("svc-online-only", locations=[], online=True, modified="2025-07-01T00:00:00Z"),
    )
    result = match(session, origin=MB1)
    assert suggested(result) == ["svc-near", "svc-far", "svc-online-only"]
    distances = [s.distance_m for s in result.suggestions]
    assert distances[0] is not None and 950 < distances[0] < 1050
    assert distances[1] is not None and 4900 < distances[1] < 5100
    assert distances[2] is None
    assert result.suggestions[0].nearest_location_id == "loc-near"

    # The origin can be a postcode, through the geocoder: MB6's centroid is near loc-far.
    from_village = match(session, origin_postcode="MB6 1AA")
    assert suggested(from_village)[:2] == ["svc-far", "svc-near"]


def test_then_by_freshness(session: Session, add_services: Add) -> None:
    add_services(
        town_service("svc-stale", assured="2023-01-01", modified="2023-01-01T00:00:00Z"),
        town_service("svc-assured", assured="2025-10-01", modified="2024-01-01T00:00:00Z"),
        town_service("svc-edited", assured="2024-01-01", modified="2025-11-01T00:00:00Z"),
    )
    result = match(session)  # no origin: distance does not decide
    assert suggested(result) == ["svc-edited", "svc-assured", "svc-stale"]
    assert str(result.suggestions[1].freshness.as_of) == "2025-10-01"


def test_unknown_needs_are_reported_not_matched(session: Session, add_services: Add) -> None:
    add_services(town_service("svc-art"))
    result = match(session, needs=["sp-arts", "sp-astrology"])
    assert suggested(result) == ["svc-art"]
    assert result.unknown_needs == ["sp-astrology"]


def test_limits_cap_the_lists_not_the_counts(session: Session, add_services: Add) -> None:
    add_services(
        *(town_service(f"svc-{n}") for n in range(4)),
        *(town_service(f"svc-paused-{n}", status="inactive") for n in range(3)),
    )
    result = match(session, limit=2, excluded_limit=1)
    assert len(result.suggestions) == 2
    assert (len(result.excluded), result.excluded_count) == (1, 3)


def test_reimporting_a_service_moves_its_area(session: Session, add_services: Add) -> None:
    add_services(town_service("svc-moving", areas=["MB3"]))
    assert suggested(match(session, postcode_district="MB1")) == []
    add_services(town_service("svc-moving", areas=["MB1", "MB2"]))
    assert suggested(match(session, postcode_district="MB1")) == ["svc-moving"]
    document = town_service("svc-moving")
    document["service_areas"] = []  # published with no areas: serves everyone
    add_services(document)
    assert suggested(match(session, postcode_district="MB6")) == ["svc-moving"]
