"""The known service (tests/support/known_data.py) with a person behind every referral, and
one person, Zofia, with something of every kind held about her: two closed referrals (one with
notes, measures, a message, a task and a service referral), for the data-rights tests."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlmodel import Session, col, select

from domain.accounts import AccessLog
from domain.enums import (
    ActorKind,
    AssigneeKind,
    ClosureReason,
    GpOutcomeSharing,
    MessageKind,
    OrganisationKind,
    OrganisationSharing,
    OutboxStatus,
    PreferredContact,
    RecipientKind,
    ReferralStatus,
    TaskKind,
)
from domain.report_tables import ReferralMilestone
from domain.tables import (
    AuditEvent,
    Consent,
    OutboxMessage,
    OutcomeRecord,
    Person,
    Referral,
    ReferralNote,
    ServiceReferral,
    Task,
)
from tests.support.driver import MORE_NHS_NUMBERS
from tests.support.known_data import JANUARY, load_known_service

ZOFIA = MORE_NHS_NUMBERS[0]
OPEN_PERSON = MORE_NHS_NUMBERS[1]
ZOFIA_NAME = ("Zofia", "Wiśniewska")  # ś is not Latin-1: the PDF needs a real font
NOTE_TEXT = "Loves painting; nervous about groups"
MESSAGE_PHONE = "07700 900123"
CLOSED_AT = JANUARY + timedelta(days=60)
# Callers the report tests do not have: a practice and a link worker of other referrals.
OTHER_PRACTICE = "practice:A81002"
OTHER_TEAM = "link_worker:lw-elsewhere"


@dataclass
class KnownPeople:
    zofia: list[UUID]
    """Zofia's referrals, oldest first; the first has something of every kind."""
    open_referral: UUID
    """An open referral (A81002), of OPEN_PERSON."""
    service_referral: UUID
    """The service referral of Zofia's first referral, to org-millbrook-leisure-trust."""


def add_person(session: Session, referral_id: UUID, nhs_number: str, **fields: Any) -> None:
    values: dict[str, Any] = {
        "given_name": "Alex",
        "family_name": "Example",
        "birth_date": date(1950, 6, 1),
        "postcode": "MB3 7QX",
        "address": "1 High Street, Millbrook",
        "phone": "07700 900001",
        "email": "alex@example.org",
        "reason": "Lonely since moving",
        **fields,
    }
    session.add(Person(referral_id=referral_id, nhs_number=nhs_number, **values))
    session.add(
        Consent(
            referral_id=referral_id,
            share_with_organisations=OrganisationSharing.CONTACT_AND_REASON,
            outcome_to_gp=GpOutcomeSharing.DETAILS,
            preferred_contact=PreferredContact.PHONE,
        )
    )


def load_people(session: Session) -> KnownPeople:
    """A person for each referral of the known service; the read model's status and closing
    time follow the milestones."""
    load_known_service(session)
    milestones = session.exec(
        select(ReferralMilestone).order_by(col(ReferralMilestone.referred_at))
    ).all()
    numbers = iter(MORE_NHS_NUMBERS[2:])
    open_referral = None
    for milestone in milestones:
        referral = session.get(Referral, milestone.referral_id)
        assert referral is not None
        if milestone.closed_at is not None:
            referral.status, referral.closed_at = ReferralStatus.CLOSED, milestone.closed_at
            referral.closure_reason = milestone.closure_reason
        session.add(referral)
        if open_referral is None and milestone.closed_at is None:
            open_referral = milestone.referral_id
            add_person(session, milestone.referral_id, OPEN_PERSON)
        else:
            add_person(session, milestone.referral_id, next(numbers))
    session.flush()
    assert open_referral is not None
    # Zofia: two closed referrals of her own, apart from the known service's.
    zofia = [
        _closed_referral(session, JANUARY),
        _closed_referral(session, JANUARY + timedelta(days=90)),
    ]
    for referral_id in zofia:
        add_person(
            session,
            referral_id,
            ZOFIA,
            given_name=ZOFIA_NAME[0],
            family_name=ZOFIA_NAME[1],
            phone=MESSAGE_PHONE,
        )
    first = zofia[0]
    session.flush()
    session.add(
        ReferralNote(
            referral_id=first,
            kind="note",
            text=NOTE_TEXT,
            author_id="lw-amira",
            step_key="assessed",
        )
    )
    session.add(
        ReferralNote(
            referral_id=first, kind="note", text="hidden: a refused step", author_id="lw-amira"
        )
    )
    session.add(
        AuditEvent(
            referral_id=first,
            actor_kind=ActorKind.LINK_WORKER,
            actor_id="lw-amira",
            action="assessed",
            at=JANUARY,
        )
    )
    session.add(
        OutcomeRecord(
            referral_id=first,
            checkpoint="baseline",
            instrument="swemwbs",
            answers={"item1": 3},
            recorded_at=JANUARY,
        )
    )
    session.add(
        Task(
            referral_id=first,
            step_key="assigned",
            kind=TaskKind.FIRST_CONTACT,
            assignee_kind=AssigneeKind.LINK_WORKER,
            assignee_id="lw-amira",
        )
    )
    service_referral = UUID(int=first.int ^ 1)
    session.add(
        ServiceReferral(
            id=service_referral,
            referral_id=first,
            service_id="svc-health-walks",
            organisation_id="org-millbrook-leisure-trust",
            sent_at=JANUARY,
            respond_by=JANUARY + timedelta(days=14),
        )
    )
    session.add(
        OutboxMessage(
            dedupe_key=f"{first}:text",
            referral_id=first,
            kind=MessageKind.PERSON_LINK_WORKER_WILL_CONTACT,
            recipient_kind=RecipientKind.PERSON,
            recipient_id="person",
            payload={"referral_id": str(first), "phone": MESSAGE_PHONE},
            created_at=JANUARY,
            sent_at=JANUARY,
            status=OutboxStatus.SENT,
        )
    )
    session.add(
        OutboxMessage(
            dedupe_key=f"{first}:gp",
            referral_id=first,
            kind=MessageKind.GP_OUTCOME,
            recipient_kind=RecipientKind.PRACTICE,
            recipient_id="A81001",
            payload={"referral_id": str(first), "nhs_number": ZOFIA},
            created_at=CLOSED_AT,
        )
    )
    session.add(
        AccessLog(
            at=JANUARY,
            subject="lw-amira",
            action="GET /referrals/{referral_id}",
            organisation_kind=OrganisationKind.LINK_WORKER_TEAM,
            organisation_id="millbrook-pcn",
            referral_id=first,
        )
    )
    session.commit()
    return KnownPeople(zofia, open_referral, service_referral)


def _closed_referral(session: Session, at: datetime) -> UUID:
    referral = Referral(
        practice_ods="A81001",
        status=ReferralStatus.CLOSED,
        closure_reason=ClosureReason.DECLINED,
        created_at=at,
        closed_at=CLOSED_AT,
        need_codes=["sp-arts"],
    )
    session.add(referral)
    session.flush()
    return referral.id


LONG_AFTER = datetime(2040, 1, 1, tzinfo=UTC)
"""Long after every referral of the known service closed: everyone is due for retention."""
