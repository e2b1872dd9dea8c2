"""The demo directory, the look-up the referral workflow uses, and the shipped taxonomy."""

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, func, select

from catalogue.demo import load_demo_directory, service_documents
from catalogue.lookup import ActiveService, active_service
from catalogue.matching import MatchRequest, suggest
from catalogue.tables import Attribute, Organization, Service, ServiceCapacity
from catalogue.taxonomy import SOCIAL_PRESCRIBING_TERMS, is_social_prescribing_need
from catalogue.updates import CapacityStatusUpdate, update_capacity_and_status
from domain.enums import ActorKind
from domain.messages import Actor
from tests.support.hsds import town_service


def count(session: Session, model: Any) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_the_taxonomy_has_the_fourteen_needs() -> None:
    assert len(SOCIAL_PRESCRIBING_TERMS) == 14
    assert SOCIAL_PRESCRIBING_TERMS["sp-carers"] == "Carers' support"
    assert is_social_prescribing_need("sp-digital-inclusion")
    assert not is_social_prescribing_need("digital")


def test_demo_directory_covers_the_town(session: Session) -> None:
    load_demo_directory(session)
    assert count(session, Service) == 45
    assert count(session, Organization) == 25
    used = set(session.exec(select(Attribute.taxonomy_term_id).distinct()))
    assert used == set(SOCIAL_PRESCRIBING_TERMS)
    statuses = set(session.exec(select(Service.status).distinct()))
    assert statuses == {"active", "inactive", "temporarily closed"}
    capacities = session.exec(select(ServiceCapacity)).all()
    assert sum(1 for capacity in capacities if capacity.waiting_list) >= 5


def test_demo_directory_loads_once_and_keeps_later_changes(session: Session) -> None:
    load_demo_directory(session)
    update_capacity_and_status(
        session,
        "svc-carers-cafe",
        CapacityStatusUpdate(available=0, waiting_list=True),
        Actor(kind=ActorKind.ORGANISATION, id="org-carers-together-millbrook"),
    )
    session.commit()
    load_demo_directory(session)
    assert count(session, Service) == 45
    capacity = session.exec(
        select(ServiceCapacity).where(ServiceCapacity.service_id == "svc-carers-cafe")
    ).one()
    assert (capacity.available, capacity.waiting_list) == (0, True)


def test_demo_records_are_readable_and_stable() -> None:
    ids = [document["id"] for document in service_documents()]
    assert all(service_id.startswith("svc-") for service_id in ids)
    assert ids == [document["id"] for document in service_documents()]


def test_demo_supports_a_realistic_match(session: Session) -> None:
    load_demo_directory(session)
    request = MatchRequest(
        needs=["sp-social-groups", "sp-food"], age=72, postcode_district="MB2", mode="in_person"
    )
    result = suggest(session, request)
    assert result.suggestions[0].service_id == "svc-lunch-club"
    assert "svc-cook-and-eat" in {exclusion.service_id for exclusion in result.excluded}


def test_active_service_finds_its_organisation(
    session: Session, add_services: Callable[..., Any]
) -> None:
    add_services(town_service("svc-open"), town_service("svc-paused", status="inactive"))
    assert active_service(session, "svc-open") == ActiveService(
        service_id="svc-open", organization_id="org-a", name="svc open"
    )
    assert active_service(session, "svc-paused") is None
    assert active_service(session, "svc-missing") is None
