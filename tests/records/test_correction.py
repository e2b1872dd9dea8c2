"""Correction: the practice that referred, or the link worker's team, corrects a person's
contact details; the change is audited by field name only, and the organisation the person
was referred to sees the corrected details. Anyone else gets 404."""

from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from activities.records import erase_person
from api.records import CORRECTED_ACTION
from core.settings import get_settings
from domain.accounts import AccessLog
from domain.enums import PreferredContact
from domain.messages import SYSTEM
from domain.tables import AuditEvent, Consent, Person
from socialrx.cli import app
from tests.support.people_records import OTHER_PRACTICE, OTHER_TEAM, ZOFIA, KnownPeople
from tests.support.reports import COMMISSIONER, signed_in_as

PRACTICE = "practice:A81001"
LINK_WORKER = "link_worker:lw-ben"
ORGANISATION = "organisation:org-millbrook-leisure-trust"
NEW_PHONE = "07700 900777"


async def correct(
    api: httpx.AsyncClient, caller: str, referral_id: UUID, **body: Any
) -> httpx.Response:
    return await api.patch(
        f"/referrals/{referral_id}/contact-details",
        json=body,
        headers=await signed_in_as(api, caller),
    )


@pytest.mark.parametrize("caller", [PRACTICE, LINK_WORKER])
async def test_the_practice_or_the_team_corrects_and_the_organisation_sees_it(
    api: httpx.AsyncClient, known_people: KnownPeople, engine: Engine, caller: str
) -> None:
    referral_id = known_people.zofia[0]
    response = await correct(api, caller, referral_id, phone=NEW_PHONE, email="zofia@example.org")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "phone": NEW_PHONE,
        "email": "zofia@example.org",
        "address": "1 High Street, Millbrook",
        "preferred_contact": "phone",
    }
    seen = await api.get(
        f"/service-referrals/{known_people.service_referral}",
        headers=await signed_in_as(api, ORGANISATION),
    )
    assert seen.status_code == 200, seen.text
    assert NEW_PHONE in seen.text and "zofia@example.org" in seen.text
    with Session(engine) as session:
        (audit,) = session.exec(
            select(AuditEvent).where(AuditEvent.action == CORRECTED_ACTION)
        ).all()
    assert audit.referral_id == referral_id
    assert audit.detail == {"fields": ["email", "phone"]}
    assert NEW_PHONE not in audit.model_dump_json()
    assert audit.actor_kind == ("practice" if caller == PRACTICE else "link_worker")


async def test_the_preferred_contact_changes_with_what_it_needs(
    api: httpx.AsyncClient, known_people: KnownPeople, engine: Engine
) -> None:
    referral_id = known_people.zofia[0]
    refused = await correct(api, PRACTICE, referral_id, preferred_contact="email", email=None)
    assert refused.status_code == 422, refused.text
    assert "email needs an email address" in refused.text
    moved = await correct(api, PRACTICE, referral_id, preferred_contact="letter", phone=None)
    assert moved.status_code == 200, moved.text
    with Session(engine) as session:
        consent, person = session.get(Consent, referral_id), session.get(Person, referral_id)
        assert consent is not None and person is not None
        assert (consent.preferred_contact, person.phone) == (PreferredContact.LETTER, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"email": "not an address"}, "email"),
        ({"email": "a" * 190 + "@example.org"}, "email"),
        ({"phone": "0" * 41}, "phone"),
        ({"preferred_contact": None}, "preferred_contact"),
        ({"preferred_contact": "pigeon"}, "preferred_contact"),
        ({"given_name": "Someone"}, "given_name"),
    ],
)
async def test_bad_corrections_are_refused_saying_what_to_fix(
    api: httpx.AsyncClient,
    known_people: KnownPeople,
    engine: Engine,
    body: dict[str, Any],
    field: str | None,
) -> None:
    response = await correct(api, PRACTICE, known_people.zofia[0], **body)
    assert response.status_code == 422, response.text
    if field is not None:
        assert field in response.text
    with Session(engine) as session:
        assert not session.exec(
            select(AuditEvent).where(AuditEvent.action == CORRECTED_ACTION)
        ).all()


@pytest.mark.parametrize("caller", [OTHER_PRACTICE, OTHER_TEAM, ORGANISATION, COMMISSIONER])
async def test_anyone_else_gets_404_and_nothing_changes(
    api: httpx.AsyncClient, known_people: KnownPeople, engine: Engine, caller: str
) -> None:
    response = await correct(api, caller, known_people.zofia[0], phone=NEW_PHONE)
    assert response.status_code == 404, response.text
    with Session(engine) as session:
        person = session.get(Person, known_people.zofia[0])
        assert person is not None and person.phone != NEW_PHONE


async def test_a_redacted_person_cannot_be_corrected(
    api: httpx.AsyncClient, known_people: KnownPeople, engine: Engine
) -> None:
    with Session(engine) as session:
        erase_person(session, ZOFIA, SYSTEM)
    response = await correct(api, PRACTICE, known_people.zofia[0], phone=NEW_PHONE)
    assert response.status_code == 409, response.text


def correct_from_cli(database_url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("SOCIALRX_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, ["person", "correct", *args])
    finally:
        get_settings.cache_clear()


def test_the_cli_corrects_through_the_same_path_audited_as_the_cli(
    known_people: KnownPeople, engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral_id = known_people.zofia[0]
    result = correct_from_cli(
        database_url, monkeypatch, "--referral-id", str(referral_id),
        "--phone", NEW_PHONE, "--address", "", "--preferred-contact", "text",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert NEW_PHONE not in result.output
    with Session(engine) as session:
        person, consent = session.get(Person, referral_id), session.get(Consent, referral_id)
        assert person is not None and consent is not None
        assert (person.phone, person.address) == (NEW_PHONE, None)
        assert consent.preferred_contact == PreferredContact.TEXT
        (audit,) = session.exec(
            select(AuditEvent).where(AuditEvent.action == CORRECTED_ACTION)
        ).all()
        logged = session.exec(
            select(AccessLog).where(AccessLog.action == "CLI person correct")
        ).all()
    assert (audit.referral_id, audit.actor_kind, audit.actor_id) == (referral_id, "admin", "cli")
    assert audit.detail == {"fields": ["address", "phone", "preferred_contact"]}
    assert [row.referral_id for row in logged] == [referral_id]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "at least one of phone"),
        (("--email", "not an address"), "email"),
        (("--phone", "0" * 41), "phone"),
        (("--preferred-contact", "email", "--email", ""), "email needs an email address"),
    ],
)
def test_the_cli_refuses_bad_corrections_saying_what_to_fix(
    known_people: KnownPeople,
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    says: str,
) -> None:
    referral_id = str(known_people.zofia[0])
    result = correct_from_cli(database_url, monkeypatch, "--referral-id", referral_id, *args)
    assert result.exit_code == 2, result.output
    assert says in result.output
    with Session(engine) as session:
        assert not session.exec(
            select(AuditEvent).where(AuditEvent.action == CORRECTED_ACTION)
        ).all()


def test_the_cli_refuses_an_unknown_referral_and_a_redacted_person(
    known_people: KnownPeople, engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = correct_from_cli(
        database_url, monkeypatch, "--referral-id", str(uuid4()), "--phone", NEW_PHONE
    )
    assert unknown.exit_code == 2 and "no referral" in unknown.output
    with Session(engine) as session:
        erase_person(session, ZOFIA, SYSTEM)
    redacted = correct_from_cli(
        database_url, monkeypatch, "--referral-id", str(known_people.zofia[0]), "--phone", "1"
    )
    assert redacted.exit_code == 1 and "redacted" in redacted.output
