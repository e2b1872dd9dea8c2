"""SQLModel tables of who may call the API: users, API keys, sign-in sessions, and the
append-only log of every access to patient data.

Secrets are never stored: passwords as argon2 hashes, keys and session tokens as SHA-256
digests of their random secrets.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from domain.enums import OrganisationKind
from domain.tables import ENUM, UtcDateTime, utcnow


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class UserAccount(SQLModel, table=True):
    """A person who signs in with a password, belonging to one organisation."""

    __tablename__ = "user_account"
    username: str = Field(primary_key=True, max_length=64)
    password_hash: str = Field(max_length=200)
    organisation_kind: OrganisationKind = Field(sa_type=ENUM)
    organisation_id: str = Field(max_length=64, index=True)
    """For a link worker, the team they had when the account was made: their team now is
    read from ``link_worker`` at each request (``accounts.credentials.SignedIn``)."""
    link_worker_id: str | None = Field(default=None, foreign_key="link_worker.id", max_length=64)
    active: bool = True
    created_at: datetime = _created()


class ApiKey(SQLModel, table=True):
    """A system's key: ``srx_<id>_<secret>``; looked up by id, the secret kept as a digest."""

    __tablename__ = "api_key"
    id: str = Field(primary_key=True, max_length=32)
    secret_sha256: str = Field(max_length=64)
    organisation_kind: OrganisationKind = Field(sa_type=ENUM)
    organisation_id: str = Field(max_length=64, index=True)
    label: str = Field(max_length=200)
    created_at: datetime = _created()
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    """After this the key is refused; null: it works until revoked."""
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    """When the key was last accepted, to within a minute (written at most once a minute)."""


class SignInSession(SQLModel, table=True):
    """A short-lived bearer token (or cookie) handed out at sign-in."""

    __tablename__ = "sign_in_session"
    token_sha256: str = Field(primary_key=True, max_length=64)
    username: str = Field(foreign_key="user_account.username", index=True, max_length=64)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))


class SignInThrottle(SQLModel, table=True):
    """Recent failed sign-ins of one user name or one client address, shared by every API
    process. Keyed by a digest, so a password typed into the user name box is not kept."""

    __tablename__ = "sign_in_throttle"
    key: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    last_failure_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class CommissionerPractice(SQLModel, table=True):
    """A practice in a commissioning body's area: its commissioners' reports count only the
    referrals of these practices. A body with no rows here sees every practice."""

    __tablename__ = "commissioner_practice"
    commissioner_id: str = Field(primary_key=True, max_length=64)
    practice_ods: str = Field(primary_key=True, foreign_key="practice.ods_code", max_length=16)


class AccessOutcome(StrEnum):
    """What the permission check decided for one access to patient data."""

    ALLOWED = "allowed"
    NOT_FOUND = "not_found"
    """Refused as if it did not exist (404): the caller may not see it."""
    FORBIDDEN = "forbidden"
    """Refused (403): the caller may see it but not do this."""


class AccessLog(SQLModel, table=True):
    """One access to patient data, allowed or refused, written after the permission decision
    and recording it: appended, never changed (the database refuses UPDATE and DELETE)."""

    __tablename__ = "access_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False, index=True)
    )
    subject: str = Field(max_length=64, index=True)
    organisation_kind: OrganisationKind = Field(sa_type=ENUM)
    organisation_id: str = Field(max_length=64)
    action: str = Field(max_length=120)
    referral_id: UUID | None = Field(default=None, index=True)
    outcome: AccessOutcome = Field(
        default=AccessOutcome.ALLOWED,
        max_length=16,
        sa_column_kwargs={"server_default": AccessOutcome.ALLOWED.value},
    )


class ActionLink(SQLModel, table=True):
    """A signed link in an organisation's email that answers one service referral without
    signing in (``domain.action_links``). Only its id is in the link, with a signature; the
    row says until when it works and which of its uses are spent, so it can be revoked."""

    __tablename__ = "action_link"
    id: UUID = Field(primary_key=True)
    service_referral_id: UUID = Field(index=True)
    organisation_id: str = Field(max_length=64)
    issued_at: datetime = _created()
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    responded_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    """When the link was used to accept or decline: that use is spent."""
    used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    """When nothing was left to do with it (declined, or uptake confirmed)."""
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
