"""Retention and erasure: one redaction removes what identifies the person, their notes and
the personal part of their messages, keeps what the reports count, and leaves an audit entry;
erasure is refused while a referral is open."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from activities.records import (
    REDACTED_ACTION,
    OpenReferral,
    RedactionBasis,
    due_for_redaction,
    erase_person,
    keep_until,
    redact_due,
)
from domain.enums import OutboxStatus
from domain.messages import SYSTEM
from domain.tables import (
    PERSONAL_FIELDS,
    AuditEvent,
    OutboxMessage,
    OutcomeRecord,
    Person,
    Referral,
    ReferralNote,
    ServiceReferral,
)
from socialrx.cli import app
from tests.support.people_records import (
    CLOSED_AT,
    LONG_AFTER,
    MESSAGE_PHONE,
    OPEN_PERSON,
    ZOFIA,
    KnownPeople,
)
from tests.support.reports import COMMISSIONER, signed_in_as

EIGHT_YEARS = timedelta(days=8 * 365 + 2)
REPORTS = ("funnel", "closures", "outcomes", "waits", "uptake", "volumes")


def assert_redacted(session: Session, referral_ids: list[Any]) -> None:
    for referral_id in referral_ids:
        person = session.get(Person, referral_id)
        assert person is not None and person.redacted_at is not None
        # Every personal field is emptied, but for two kept coarse: a new one must be too.
        kept_coarse = {"birth_date", "postcode"}
        assert not [f for f in PERSONAL_FIELDS if f not in kept_coarse and getattr(person, f)]
        assert person.birth_date.month == person.birth_date.day == 1  # the year alone
        assert " " not in person.postcode  # the district alone
        assert not session.exec(
            select(ReferralNote).where(ReferralNote.referral_id == referral_id)
        ).all()
        for message in session.exec(
            select(OutboxMessage).where(OutboxMessage.referral_id == referral_id)
        ):
            assert set(message.payload) <= {"referral_id", "kind", "practice_ods"}
            assert message.payload_pruned_at is not None
        (audit,) = session.exec(
            select(AuditEvent)
            .where(AuditEvent.referral_id == referral_id)
            .where(AuditEvent.action == REDACTED_ACTION)
        ).all()
        assert ZOFIA not in audit.model_dump_json()


def test_erasure_redacts_every_referral_and_keeps_codes_and_measures(
    known_people: KnownPeople, session: Session
) -> None:
    redacted = erase_person(session, ZOFIA, SYSTEM)
    assert sorted(redacted) == sorted(known_people.zofia)
    assert_redacted(session, redacted)
    first = known_people.zofia[0]
    referral = session.get(Referral, first)
    assert referral is not None and referral.need_codes == ["sp-arts"]
    assert session.exec(select(OutcomeRecord).where(OutcomeRecord.referral_id == first)).all()
    assert session.get(ServiceReferral, known_people.service_referral) is not None
    # The GP message not yet sent will never go: it has nothing left to say.
    unsent = session.exec(select(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None))).one()
    assert (unsent.status, unsent.last_error) == (OutboxStatus.DEAD, "redacted")
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == REDACTED_ACTION)).first()
    assert audit is not None and audit.detail == {"basis": RedactionBasis.ERASURE}
    # Erasing again finds nobody: the NHS number is gone.
    assert erase_person(session, ZOFIA, SYSTEM) == []


def test_erasure_is_refused_while_a_referral_is_open(
    known_people: KnownPeople, session: Session
) -> None:
    with pytest.raises(OpenReferral):
        erase_person(session, OPEN_PERSON, SYSTEM)
    person = session.get(Person, known_people.open_referral)
    assert person is not None and person.nhs_number == OPEN_PERSON and person.redacted_at is None


def test_retention_redacts_people_whose_last_referral_closed_long_enough_ago(
    known_people: KnownPeople, session: Session
) -> None:
    just_before = CLOSED_AT + EIGHT_YEARS - timedelta(days=1)
    assert due_for_redaction(session, EIGHT_YEARS, just_before) == []
    just_after = CLOSED_AT + EIGHT_YEARS + timedelta(days=1)
    due = due_for_redaction(session, EIGHT_YEARS, just_after)
    assert set(known_people.zofia) <= set(due)
    assert known_people.open_referral not in due
    redacted = redact_due(session, EIGHT_YEARS, SYSTEM, just_after)
    assert sorted(redacted) == sorted(due)
    assert_redacted(session, known_people.zofia)
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == REDACTED_ACTION)).first()
    assert audit is not None and audit.detail == {"basis": RedactionBasis.RETENTION}
    assert audit.actor_kind == "system"
    # A second pass finds nobody left: retention is idempotent.
    assert redact_due(session, EIGHT_YEARS, SYSTEM, just_after) == []


def test_a_person_with_a_recent_or_open_referral_is_not_due(
    known_people: KnownPeople, session: Session
) -> None:
    # Zofia's second referral closes later: her first is kept while the second is.
    second = session.get(Referral, known_people.zofia[1])
    assert second is not None
    second.closed_at = CLOSED_AT + timedelta(days=365)
    session.add(second)
    session.commit()
    due = due_for_redaction(session, EIGHT_YEARS, CLOSED_AT + EIGHT_YEARS + timedelta(days=1))
    assert not set(known_people.zofia) & set(due)
    assert known_people.open_referral not in due_for_redaction(session, EIGHT_YEARS, LONG_AFTER)


async def test_the_reports_add_up_the_same_after_everyone_is_redacted(
    api: httpx.AsyncClient, known_people: KnownPeople, engine: Engine
) -> None:
    headers = await signed_in_as(api, COMMISSIONER)

    async def figures() -> dict[str, Any]:
        answers = {}
        for report in REPORTS:
            for internal in (False, True):
                response = await api.get(
                    f"/reports/{report}", params={"internal": internal}, headers=headers
                )
                assert response.status_code == 200, response.text
                answers[f"{report} internal={internal}"] = response.json()
        return answers

    before = await figures()
    with Session(engine) as session:
        assert len(redact_due(session, EIGHT_YEARS, SYSTEM, LONG_AFTER)) >= 12
    assert await figures() == before
    assert before["funnel internal=True"]["stages"][0]["count"] == 14


async def test_the_erase_route_refuses_an_open_referral_and_redacts_a_closed_one(
    api: httpx.AsyncClient, known_people: KnownPeople, engine: Engine
) -> None:
    headers = await signed_in_as(api, COMMISSIONER)
    refused = await api.post(
        "/admin/people/erase", json={"nhs_number": OPEN_PERSON}, headers=headers
    )
    assert refused.status_code == 409, refused.text
    assert "open referral" in refused.text and OPEN_PERSON not in refused.text
    erased = await api.post("/admin/people/erase", json={"nhs_number": ZOFIA}, headers=headers)
    assert erased.status_code == 200, erased.text
    assert sorted(erased.json()["redacted_referrals"]) == sorted(str(i) for i in known_people.zofia)
    with Session(engine) as session:
        assert_redacted(session, known_people.zofia)
    again = await api.post("/admin/people/export", json={"nhs_number": ZOFIA}, headers=headers)
    assert again.json()["referrals"] == []
    assert MESSAGE_PHONE not in again.text


def test_the_cli_erases_only_when_confirmed_and_refuses_an_open_referral(
    known_people: KnownPeople, database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALRX_DATABASE_URL", database_url)
    from core.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    try:
        unconfirmed = runner.invoke(app, ["person", "erase", "--nhs-number", ZOFIA])
        assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.output
        refused = runner.invoke(app, ["person", "erase", "--nhs-number", OPEN_PERSON, "--yes"])
        assert refused.exit_code == 1 and "open referral" in refused.output
        erased = runner.invoke(app, ["person", "erase", "--nhs-number", ZOFIA, "--yes"])
        assert erased.exit_code == 0, erased.output
        assert "2 referral(s) redacted" in erased.output
    finally:
        get_settings.cache_clear()
    with Session(engine) as session:
        assert_redacted(session, known_people.zofia)


@pytest.mark.parametrize(
    ("born", "kept_until"),
    [
        (date(1950, 6, 1), CLOSED_AT + EIGHT_YEARS),  # an adult: eight years after closing
        (date(2016, 1, 1), datetime(2041, 1, 1, tzinfo=UTC)),  # 10 at closing: 25th birthday
        (date(2008, 6, 1), datetime(2034, 6, 1, tzinfo=UTC)),  # 17 at closing: 26th birthday
        (date(2008, 2, 29), CLOSED_AT + EIGHT_YEARS),  # 18 at closing: an adult
    ],
)
def test_children_are_kept_until_their_25th_or_26th_birthday(
    born: date, kept_until: datetime
) -> None:
    assert keep_until(CLOSED_AT, born, EIGHT_YEARS) == kept_until


def test_a_child_is_not_due_until_their_25th_birthday(
    known_people: KnownPeople, session: Session
) -> None:
    for referral_id in known_people.zofia:
        person = session.get(Person, referral_id)
        assert person is not None
        person.birth_date = date(2016, 1, 1)
        session.add(person)
    session.commit()
    after_eight_years = CLOSED_AT + EIGHT_YEARS + timedelta(days=1)
    assert not set(known_people.zofia) & set(
        due_for_redaction(session, EIGHT_YEARS, after_eight_years)
    )
    after_25th_birthday = datetime(2041, 1, 2, tzinfo=UTC)
    assert set(known_people.zofia) <= set(
        due_for_redaction(session, EIGHT_YEARS, after_25th_birthday)
    )
