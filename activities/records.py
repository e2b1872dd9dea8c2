"""A person's records under UK GDPR and the NHS Records Management Code: everything held about
them (subject access), and the one redaction that both retention and erasure apply.

Redaction removes what identifies the person or says why they were referred, the link
worker's notes and the personal part of every message. It keeps what the reports count: the
referral under its id alone (a pseudonym), its need and closure codes, its milestones, its
measures and their changes. Each redacted referral gets an audit entry saying when, by whom
and on what basis (never whose details they were).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID

import matplotlib
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy import case, delete, func
from sqlmodel import Session, SQLModel, col, select

from activities.relay import pruned_payload
from domain.accounts import AccessLog
from domain.enums import OutboxStatus, ReferralStatus
from domain.messages import Actor
from domain.tables import (
    AuditEvent,
    Consent,
    GpMessageDelivery,
    OutboxMessage,
    OutcomeRecord,
    Person,
    Referral,
    ReferralNote,
    ServiceReferral,
    Task,
    utcnow,
)

log = logging.getLogger(__name__)

REDACTED_ACTION = "personal_details_redacted"
"""The audit entry (timeline) of a redaction."""
UNSENT_BECAUSE_REDACTED = "redacted"
"""``OutboxMessage.last_error`` of a message that was never sent because its person's details
were redacted first: it is marked dead, so no relay sends an empty message."""


class RedactionBasis(StrEnum):
    """Why a person's details were redacted."""

    RETENTION = "retention"
    """Their last referral closed longer ago than the retention period."""
    ERASURE = "erasure"
    """An admin erased them early, on request (UK GDPR Article 17)."""


class OpenReferral(Exception):
    """Erasure refused: the person has a referral still open, which needs their details."""


# --- subject access ----------------------------------------------------------------------


@dataclass
class PersonRecord:
    """Everything held about one person: one entry per referral, each with every row that
    refers to it, as plain JSON values."""

    nhs_number: str
    exported_at: datetime
    referrals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def referral_ids(self) -> list[UUID]:
        return [UUID(referral["referral"]["id"]) for referral in self.referrals]

    def as_json(self) -> dict[str, Any]:
        return {
            "nhs_number": self.nhs_number,
            "exported_at": self.exported_at.isoformat(),
            "referrals": self.referrals,
        }


# What one referral's record holds, in the order the PDF shows it: (key, heading).
RECORD_SECTIONS = (
    ("referral", "Referral"),
    ("person", "Personal details"),
    ("consent", "Consent"),
    ("timeline", "Timeline"),
    ("notes", "Notes"),
    ("tasks", "Tasks"),
    ("service_referrals", "Referrals to services"),
    ("measures", "Measures"),
    ("messages", "Messages sent"),
    ("gp_messages", "Messages to the GP practice"),
    ("access_log", "Who looked at or changed the record"),
)


def _json(row: SQLModel) -> dict[str, Any]:
    # Enum columns load as their plain strings (stored so): already what JSON needs.
    return row.model_dump(mode="json", warnings=False)


def _rows(session: Session, table: type[SQLModel], referral_id: UUID, *order: Any) -> list[Any]:
    reference = table.referral_id  # type: ignore[attr-defined]
    return [
        _json(row)
        for row in session.exec(select(table).where(reference == referral_id).order_by(*order))
    ]


def person_record(session: Session, nhs_number: str, now: datetime | None = None) -> PersonRecord:
    """Everything held about the person with this NHS number (nothing once redacted: their
    remaining rows no longer say who they were)."""
    record = PersonRecord(nhs_number=nhs_number, exported_at=now or utcnow())
    people = session.exec(
        select(Person, Referral)
        .join(Referral, col(Referral.id) == col(Person.referral_id))
        .where(Person.nhs_number == nhs_number)
        .order_by(col(Referral.created_at))
    ).all()
    for person, referral in people:
        referral_id = referral.id
        consent = session.get(Consent, referral_id)
        record.referrals.append(
            {
                "referral": _json(referral),
                "person": _json(person),
                "consent": _json(consent) if consent else None,
                "timeline": _rows(session, AuditEvent, referral_id, col(AuditEvent.at)),
                # Notes a step carried; one without a step belongs to a refused step.
                "notes": [
                    note
                    for note in _rows(session, ReferralNote, referral_id, col(ReferralNote.id))
                    if note["step_key"] is not None
                ],
                "tasks": _rows(session, Task, referral_id, col(Task.id)),
                "service_referrals": _rows(
                    session, ServiceReferral, referral_id, col(ServiceReferral.sent_at)
                ),
                "measures": _rows(session, OutcomeRecord, referral_id, col(OutcomeRecord.id)),
                "messages": _rows(session, OutboxMessage, referral_id, col(OutboxMessage.id)),
                "gp_messages": _rows(
                    session, GpMessageDelivery, referral_id, col(GpMessageDelivery.sent_at)
                ),
                "access_log": _rows(session, AccessLog, referral_id, col(AccessLog.at)),
            }
        )
    return record


# --- redaction ---------------------------------------------------------------------------


def redact_referrals(
    session: Session,
    referral_ids: Sequence[UUID],
    actor: Actor,
    basis: RedactionBasis,
    now: datetime | None = None,
) -> list[UUID]:
    """Redact the person of each referral (all closed: the caller checks) and commit; the
    referrals that were redacted now, skipping any already redacted. Idempotent."""
    now = now or utcnow()
    people = session.exec(
        select(Person)
        .where(col(Person.referral_id).in_(referral_ids))
        .where(col(Person.redacted_at).is_(None))
    ).all()
    redacted = [person.referral_id for person in people]
    for person in people:
        _redact_person(person, now)
        session.add(person)
        session.add(
            AuditEvent(
                referral_id=person.referral_id,
                actor_kind=actor.kind,
                actor_id=actor.id,
                action=REDACTED_ACTION,
                at=now,
                detail={"basis": basis.value},
            )
        )
    if redacted:
        session.execute(delete(ReferralNote).where(col(ReferralNote.referral_id).in_(redacted)))
        _prune_messages(session, redacted, now)
    session.commit()
    if redacted:
        log.info("redacted %d referral(s) on the basis of %s", len(redacted), basis.value)
    return redacted


def _redact_person(person: Person, now: datetime) -> None:
    """Keep only what cannot single the person out: the year of birth (for age bands) and
    the postcode district (the outward code, for areas)."""
    person.nhs_number = ""
    person.open_nhs_number = None
    person.given_name = ""
    person.family_name = ""
    person.birth_date = date(person.birth_date.year, 1, 1)
    person.postcode = person.postcode.split(" ")[0]
    person.address = None
    person.phone = None
    person.email = None
    person.reason = ""
    person.redacted_at = now


def _prune_messages(session: Session, referral_ids: list[UUID], now: datetime) -> None:
    messages = session.exec(
        select(OutboxMessage).where(col(OutboxMessage.referral_id).in_(referral_ids))
    ).all()
    for message in messages:
        message.payload = pruned_payload(message.payload)
        message.payload_pruned_at = now
        if message.sent_at is None:
            # What is left cannot be sent: the relay must not try.
            message.status = OutboxStatus.DEAD
            message.last_error = UNSENT_BECAUSE_REDACTED
            message.claimed_by = message.claimed_until = message.next_attempt_at = None
        session.add(message)


def erase_person(
    session: Session, nhs_number: str, actor: Actor, now: datetime | None = None
) -> list[UUID]:
    """Redact everything about this person now, as retention would later; refused
    (``OpenReferral``) while any of their referrals is open. The referrals redacted (none when
    nothing is held about that NHS number)."""
    referrals = session.exec(
        select(Referral.id, Referral.status)
        .join(Person, col(Person.referral_id) == col(Referral.id))
        .where(Person.nhs_number == nhs_number)
    ).all()
    if any(status != ReferralStatus.CLOSED for _, status in referrals):
        session.rollback()
        raise OpenReferral("the person has an open referral; close it before erasing them")
    return redact_referrals(
        session, [referral_id for referral_id, _ in referrals], actor, RedactionBasis.ERASURE, now
    )


def due_for_redaction(
    session: Session, retention: timedelta, now: datetime | None = None, limit: int = 500
) -> list[UUID]:
    """The referrals of every person not yet redacted whose referrals are all closed, kept
    as long as ``keep_until`` says: one person's referrals go together."""
    now = now or utcnow()
    still_open = func.sum(case((col(Referral.status) != ReferralStatus.CLOSED, 1), else_=0))
    last_closed = func.max(Referral.closed_at)
    # Everyone past the adult period; children are then kept longer (below). No limit here:
    # a child not yet due must not take the place of an adult who is.
    candidates = session.exec(
        select(Person.nhs_number, last_closed, func.max(Person.birth_date))
        .join(Referral, col(Referral.id) == col(Person.referral_id))
        .where(col(Person.redacted_at).is_(None))
        .group_by(col(Person.nhs_number))
        .having(still_open == 0)
        .having(last_closed < now - retention)
    ).all()
    due = [
        number
        for number, closed, born in candidates
        # (closed is never None: the query asked for people closed before a time)
        if closed is not None and keep_until(closed, born, retention) <= now
    ][:limit]
    if not due:
        return []
    return list(
        session.exec(
            select(Person.referral_id)
            .where(col(Person.nhs_number).in_(due))
            .where(col(Person.redacted_at).is_(None))
        ).all()
    )


def keep_until(last_closed: datetime, born: date, retention: timedelta) -> datetime:
    """When a person's records may go: ``retention`` after their last referral closed, and
    for a child not before their 25th birthday (26th if they were 17 when it closed), as the
    Records Management Code of Practice's retention schedule keeps children's records."""
    age_at_closure = _years_between(born, last_closed.date())
    coming_of_age = _birthday(born, 26 if age_at_closure == 17 else 25)
    return max(last_closed + retention, datetime.combine(coming_of_age, time(), last_closed.tzinfo))


def _years_between(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _birthday(born: date, age: int) -> date:
    # Someone born on 29 February has their birthday on 1 March in other years.
    try:
        return born.replace(year=born.year + age)
    except ValueError:
        return date(born.year + age, 3, 1)


def redact_due(
    session: Session, retention: timedelta, actor: Actor, now: datetime | None = None
) -> list[UUID]:
    """One retention pass: redact every person who is due."""
    return redact_referrals(
        session,
        due_for_redaction(session, retention, now),
        actor,
        RedactionBasis.RETENTION,
        now,
    )


# --- the readable copy -------------------------------------------------------------------

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
"""DejaVu Sans, shipped with matplotlib: it covers names in any European script, which the
PDF's built-in Latin-1 fonts do not."""
PDF_TITLE = "Your social prescribing record"


def person_record_pdf(record: PersonRecord) -> bytes:
    """The record as a PDF a person can read: each referral, then each kind of record in it,
    one entry after another as "field: value" lines."""
    pdf = FPDF(format="A4")
    pdf.set_title(PDF_TITLE)
    pdf.set_author("socialrx")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    _pdf_line(pdf, PDF_TITLE, height=9)
    pdf.set_font("DejaVu", "", 10)
    _pdf_line(pdf, f"NHS number: {record.nhs_number}")
    _pdf_line(pdf, f"Produced: {record.exported_at:%d %B %Y %H:%M} UTC")
    if not record.referrals:
        _pdf_line(pdf, "We hold no records about this NHS number.")
    for number, referral in enumerate(record.referrals, start=1):
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 13)
        _pdf_line(pdf, f"Referral {number} of {len(record.referrals)}", height=8)
        for key, heading in RECORD_SECTIONS:
            content = referral[key]
            entries = content if isinstance(content, list) else [content] if content else []
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 11)
            _pdf_line(pdf, f"{heading} ({len(entries)})" if isinstance(content, list) else heading)
            pdf.set_font("DejaVu", "", 9)
            if not entries:
                _pdf_line(pdf, "None.")
            for entry in entries:
                for name, value in entry.items():
                    _pdf_line(pdf, f"{name.replace('_', ' ')}: {_words(value)}", height=5)
                pdf.ln(1)
    return bytes(pdf.output())


def _words(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "-"
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')} {_words(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_words(item) for item in value)
    return str(value)


def _pdf_line(pdf: FPDF, text: str, height: float = 6) -> None:
    pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
