"""SQLModel tables of the read model and of the people and teams who work referrals.

Temporal holds where each referral is in its process; these tables are its projection for
pages, lists and reports, plus the personal details that never enter a workflow.
"""

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    Index,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from domain.enums import (
    AssigneeKind,
    ClosureReason,
    GpOutcomeSharing,
    MessageKind,
    OrganisationSharing,
    OutboxStatus,
    PreferredContact,
    RecipientKind,
    ReferralStatus,
    ServiceReferralStatus,
    TaskKind,
    TaskStatus,
)


def table_of(model: type[SQLModel]) -> Table:
    """A table model's ``Table``, for SQLAlchemy Core statements (SQLModel leaves
    ``__table__`` untyped)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC on every database: SQLite keeps no zone, so one is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


# Enums are stored as their plain string values, so adding a value needs no type migration.
ENUM = String(32)


def moment_column(nullable: bool = True, index: bool = False) -> Any:
    """A UTC date-time column, empty until the moment happens."""
    return Field(
        default=None,
        sa_column=Column(UtcDateTime(), nullable=nullable, index=index),
    )


class LinkWorkerTeam(SQLModel, table=True):
    __tablename__ = "link_worker_team"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    phone: str | None = Field(
        default=None,
        max_length=40,
        description="The number the team calls from, told to the person in their first text.",
    )


class Practice(SQLModel, table=True):
    ods_code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=200)
    team_id: str = Field(foreign_key="link_worker_team.id", index=True)


class LinkWorker(SQLModel, table=True):
    __tablename__ = "link_worker"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    team_id: str = Field(foreign_key="link_worker_team.id", index=True)
    is_team_lead: bool = False
    active: bool = True
    email: str | None = Field(
        default=None, max_length=200, description="Where the link worker's notices are emailed."
    )


class Referral(SQLModel, table=True):
    """The summary of one referral: identifiers, codes and where it stands."""

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    practice_ods: str = Field(foreign_key="practice.ods_code", index=True)
    status: ReferralStatus = Field(default=ReferralStatus.RECEIVED, index=True, sa_type=ENUM)
    closure_reason: ClosureReason | None = Field(default=None, sa_type=ENUM)
    link_worker_id: str | None = Field(default=None, foreign_key="link_worker.id", index=True)
    need_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
    updated_at: datetime | None = moment_column()
    closed_at: datetime | None = moment_column()
    fhir_elements: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    """A FHIR referral's elements kept as sent, to be read back unchanged (``category``,
    ``priority``, ``meta.profile``, ``authoredOn``); null for a JSON referral. When the
    server received it is ``created_at``."""


PERSONAL_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "birth_date",
    "postcode",
    "address",
    "phone",
    "email",
    "reason",
)
"""The details of a person that identify them or say why they were referred: what intake takes
from the referral, and what must never reach a workflow history, a log or an email."""


class Person(SQLModel, table=True):
    """The personal details of the person referred. Never copied into a workflow."""

    __table_args__ = (UniqueConstraint("open_nhs_number", name="uq_person_open_nhs_number"),)
    referral_id: UUID = Field(foreign_key="referral.id", primary_key=True)
    nhs_number: str = Field(max_length=10, index=True)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    birth_date: date
    postcode: str = Field(max_length=10)
    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    reason: str = Field(max_length=4000)
    open_nhs_number: str | None = Field(default=None, max_length=10)
    """The NHS number while the referral is open, null once closed: the unique constraint is
    what stops two open referrals for one person even when they are submitted at once."""
    redacted_at: datetime | None = moment_column()
    """When retention or erasure removed what identifies the person (``activities.records``);
    the referral's codes and measures stay, under its id alone."""


class Consent(SQLModel, table=True):
    """What the person agreed to at intake. Read by the views organisations get and by the
    message back to the GP; never copied into a workflow."""

    referral_id: UUID = Field(foreign_key="referral.id", primary_key=True)
    share_with_organisations: OrganisationSharing = Field(sa_type=ENUM)
    outcome_to_gp: GpOutcomeSharing = Field(sa_type=ENUM)
    preferred_contact: PreferredContact = Field(default=PreferredContact.PHONE, sa_type=ENUM)
    contact_consent: bool = False
    """The person agreed to be sent messages (texts or emails) about the referral."""
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )


class ReferralNote(SQLModel, table=True):
    """Free text written by the link worker at a step (goals, notes): kept out of workflows."""

    __tablename__ = "referral_note"
    id: int | None = Field(default=None, primary_key=True)
    referral_id: UUID = Field(foreign_key="referral.id", index=True)
    kind: str = Field(max_length=32)
    text: str = Field(max_length=4000)
    author_id: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
    step_key: str | None = Field(default=None, max_length=80)
    """The step that carried this note, set by that step's projection. A note is written just
    before its step is sent to the workflow and stays hidden (None) until the step is applied,
    so a refused step leaves nothing visible and an accepted one never loses its note."""


class AppliedStep(SQLModel, table=True):
    """Which workflow steps are already in the read model: what makes projections idempotent."""

    __tablename__ = "applied_step"
    # The newest ``applied_at`` is the report snapshots' "facts changed" signal
    # (reports/snapshots.py): read as max() it is one step down this index.
    __table_args__ = (Index("ix_applied_step_applied_at", "applied_at"),)
    referral_id: UUID = Field(primary_key=True)
    step_key: str = Field(primary_key=True, max_length=80)
    applied_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )


class Task(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("referral_id", "step_key", "kind", "subject_id"),)
    id: int | None = Field(default=None, primary_key=True)
    referral_id: UUID = Field(foreign_key="referral.id", index=True)
    step_key: str = Field(max_length=80)
    kind: TaskKind = Field(sa_type=ENUM)
    assignee_kind: AssigneeKind = Field(sa_type=ENUM)
    assignee_id: str = Field(max_length=64, index=True)
    subject_id: str | None = Field(default=None, max_length=64)
    status: TaskStatus = Field(default=TaskStatus.OPEN, index=True, sa_type=ENUM)
    due_at: datetime | None = moment_column(index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
    closed_at: datetime | None = moment_column()


class ServiceReferral(SQLModel, table=True):
    """A referral sent to one community service, and the organisation's answer."""

    __tablename__ = "service_referral"
    id: UUID = Field(primary_key=True)
    referral_id: UUID = Field(foreign_key="referral.id", index=True)
    service_id: str = Field(max_length=64, index=True)
    organisation_id: str = Field(max_length=64, index=True)
    status: ServiceReferralStatus = Field(
        default=ServiceReferralStatus.PENDING, index=True, sa_type=ENUM
    )
    sent_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    respond_by: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    responded_at: datetime | None = moment_column()


class OutcomeRecord(SQLModel, table=True):
    __tablename__ = "outcome_record"
    __table_args__ = (UniqueConstraint("referral_id", "checkpoint", "instrument"),)
    id: int | None = Field(default=None, primary_key=True)
    referral_id: UUID = Field(foreign_key="referral.id", index=True)
    checkpoint: str = Field(max_length=32)
    instrument: str = Field(max_length=64)
    version: str = Field(default="1", max_length=16)
    answers: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    missed: bool = False
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    referral_id: UUID | None = Field(default=None, index=True)
    actor_kind: str = Field(max_length=32)
    actor_id: str = Field(max_length=64)
    action: str = Field(max_length=64)
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OutboxMessage(SQLModel, table=True):
    """One message for the world, written with the step that caused it; the outbox relay
    claims it (a lease: ``claimed_by`` until ``claimed_until``) and sends it."""

    __tablename__ = "outbox_message"
    # The relay's question: which pending messages are due?
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    referral_id: UUID = Field(foreign_key="referral.id", index=True)
    kind: MessageKind = Field(sa_type=String(64))
    """Wider than other enum columns: message kinds name their recipient and event."""
    recipient_kind: RecipientKind = Field(sa_type=ENUM)
    recipient_id: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    sent_at: datetime | None = moment_column(index=True)
    attempts: int = 0
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=ENUM)
    next_attempt_at: datetime | None = moment_column()
    claimed_until: datetime | None = moment_column()
    claimed_by: str | None = Field(default=None, max_length=100)
    last_error: str | None = Field(
        default=None, max_length=200, description="The kind of the last failure, never its data."
    )
    payload_pruned_at: datetime | None = moment_column()


class IdempotencyRecord(SQLModel, table=True):
    """One Idempotency-Key of one caller: the request it came with and, once answered, the
    response to give again. Inserted before the work starts, so the unique constraint decides
    which of several concurrent requests does the work."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("caller", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    caller: str = Field(max_length=200)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    media_type: str | None = Field(default=None, max_length=64)
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False, index=True)
    )
    claim_id: UUID | None = None
    """Chosen when the key is claimed: the id of what the request creates (a referral), so a
    retry that takes over a dead request's claim finishes the same thing, not a second one."""
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    """The claim's lease while no response is stored: renewed while the request runs, so a
    claim whose request died lapses and a retry with the same key can take it over."""


class GpMessageDelivery(SQLModel, table=True):
    """One outcome message sent to a GP practice over MESH, and the ITK3 acknowledgements it
    got back. Holds identifiers and codes only: the document itself is not kept here."""

    __tablename__ = "gp_message_delivery"
    outbox_message_id: int = Field(foreign_key="outbox_message.id", primary_key=True)
    referral_id: UUID = Field(foreign_key="referral.id", index=True)
    itk_message_id: str = Field(max_length=36, unique=True)
    """The ITK3 MessageHeader id, which the acknowledgements name."""
    mesh_message_id: str = Field(max_length=64)
    mailbox: str | None = Field(default=None, max_length=20)
    """The practice mailbox it went to; None when MESH routed it by the patient's details."""
    sent_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    infrastructure_ack: str | None = Field(default=None, max_length=16)
    """The ITK3 response code of the infrastructure acknowledgement, e.g. 20013 (success)."""
    infrastructure_ack_at: datetime | None = moment_column()
    business_ack: str | None = Field(default=None, max_length=16)
    """The ITK3 response code of the business acknowledgement, e.g. 30001 (patient known)."""
    business_ack_at: datetime | None = moment_column()
    problem: str | None = Field(default=None, max_length=64)
    """Why an admin must look: a negative acknowledgement's code, or none in time."""
    problem_at: datetime | None = moment_column()
