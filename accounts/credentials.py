"""Accounts and their secrets: users with argon2 passwords, API keys, sign-in sessions.

Used by the API to authenticate callers and by the ``socialrx users`` / ``socialrx keys``
commands and the demo data to create them. Plain secrets exist only in the return value
that hands them to their owner; the database keeps hashes.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib.resources import files

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, col, delete, or_, select, update

from catalogue.tables import Organization
from domain.accounts import ApiKey, CommissionerPractice, SignInSession, UserAccount
from domain.enums import OrganisationKind
from domain.tables import LinkWorker, LinkWorkerTeam, Practice, utcnow

PASSWORDS = PasswordHash((Argon2Hasher(),))
API_KEY_PREFIX = "srx"
MIN_PASSWORD_LENGTH = 10
# Verifying against this when the user does not exist takes as long as a real check, so the
# answer time does not tell which user names exist.
_DUMMY_HASH = PASSWORDS.hash("not a password of anyone")
# A key's last use is written at most this often: a busy system calls many times a second.
KEY_USE_RECORDED_EVERY = timedelta(minutes=1)


class Role(StrEnum):
    """What an account is, and so what its id names."""

    PRACTICE = "practice"  # an ODS code
    LINK_WORKER = "link_worker"  # a link worker id (a person in a team)
    LINK_WORKER_TEAM = "link_worker_team"  # a team id (for a team's system)
    ORGANISATION = "organisation"  # a catalogue organisation id
    COMMISSIONER = "commissioner"  # a commissioning body, named freely


class AccountError(ValueError):
    """The account cannot be made as asked; the message says what to fix."""


@dataclass(frozen=True)
class SignedIn:
    """Whom a signed-in account acts for, as the database says now: a link worker's team is
    read from ``link_worker`` on every request, so a move between teams takes effect at once."""

    username: str
    organisation_kind: OrganisationKind
    organisation_id: str
    link_worker_id: str | None = None


@dataclass(frozen=True)
class Membership:
    organisation_kind: OrganisationKind
    organisation_id: str
    link_worker_id: str | None = None


def membership(session: Session, role: Role, identifier: str) -> Membership:
    """Check that ``identifier`` names an existing organisation (or link worker) of ``role``."""
    if not identifier:
        raise AccountError("the organisation id must not be empty")
    if role is Role.LINK_WORKER:
        worker = session.get(LinkWorker, identifier)
        if worker is None:
            raise AccountError(f"no link worker {identifier!r}")
        return Membership(OrganisationKind.LINK_WORKER_TEAM, worker.team_id, worker.id)
    table: type[Practice] | type[LinkWorkerTeam] | type[Organization] | None = {
        Role.PRACTICE: Practice,
        Role.LINK_WORKER_TEAM: LinkWorkerTeam,
        Role.ORGANISATION: Organization,
        Role.COMMISSIONER: None,
    }[role]
    if table is not None and session.get(table, identifier) is None:
        raise AccountError(f"no {role.value.replace('_', ' ')} {identifier!r}")
    return Membership(OrganisationKind(role.value), identifier)


def digest(secret: str) -> str:
    # Keys and tokens are 256 random bits, so a fast hash is as safe as a slow one here.
    return hashlib.sha256(secret.encode()).hexdigest()


# --- users ------------------------------------------------------------------------------


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lower case (``accounts/data/README.md``)."""
    text = files("accounts").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(text.split())


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if password.lower() in common_passwords():
        raise AccountError(
            "that password is one of the most common passwords, which attackers try first: "
            "choose another"
        )
    return password


def add_user(
    session: Session, username: str, password: str, role: Role, identifier: str
) -> UserAccount:
    if session.get(UserAccount, username) is not None:
        raise AccountError(f"user {username!r} exists already")
    member = membership(session, role, identifier)
    user = UserAccount(
        username=username,
        password_hash=PASSWORDS.hash(_checked_password(password)),
        organisation_kind=member.organisation_kind,
        organisation_id=member.organisation_id,
        link_worker_id=member.link_worker_id,
    )
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def _user(session: Session, username: str) -> UserAccount:
    user = session.get(UserAccount, username)
    if user is None:
        raise AccountError(f"no user {username!r}")
    return user


def set_password(session: Session, username: str, password: str) -> None:
    user = _user(session, username)
    user.password_hash = PASSWORDS.hash(_checked_password(password))
    session.add(user)
    _end_sessions(session, username)
    session.commit()


def deactivate(session: Session, username: str) -> None:
    user = _user(session, username)
    user.active = False
    session.add(user)
    _end_sessions(session, username)
    session.commit()


def _end_sessions(session: Session, username: str) -> None:
    session.execute(delete(SignInSession).where(col(SignInSession.username) == username))


def check_password(session: Session, username: str, password: str) -> UserAccount | None:
    """The active user with this password, else None (without telling which part was wrong).
    A link worker whose ``LinkWorker.active`` is off is not active either."""
    user = session.get(UserAccount, username)
    valid = PASSWORDS.verify(password, user.password_hash if user else _DUMMY_HASH)
    if not valid or user is None:
        return None
    worker = session.get(LinkWorker, user.link_worker_id) if user.link_worker_id else None
    team_id, worker_active = (worker.team_id, worker.active) if worker else (None, None)
    return user if _acting_for(user, team_id, worker_active) is not None else None


def _acting_for(
    user: UserAccount, team_id: str | None, worker_active: bool | None
) -> SignedIn | None:
    """Whom ``user`` acts for, given their link worker's current team and state (if any)."""
    if not user.active:
        return None
    if user.link_worker_id is None:
        return SignedIn(user.username, user.organisation_kind, user.organisation_id)
    if team_id is None or not worker_active:
        return None
    return SignedIn(user.username, OrganisationKind.LINK_WORKER_TEAM, team_id, user.link_worker_id)


# --- sign-in sessions -------------------------------------------------------------------


def start_session(session: Session, user: UserAccount, lifetime: timedelta) -> tuple[str, datetime]:
    """A new bearer token for ``user`` and when it expires."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + lifetime
    session.add(
        SignInSession(token_sha256=digest(token), username=user.username, expires_at=expires_at)
    )
    # Expired sessions of this user are of no use to anyone.
    session.execute(
        delete(SignInSession)
        .where(col(SignInSession.username) == user.username)
        .where(col(SignInSession.expires_at) < utcnow())
    )
    session.commit()
    return token, expires_at


def user_for_token(session: Session, token: str) -> SignedIn | None:
    """Whom an unexpired session's account acts for now; None if the session has expired or
    ended, or the account (or its link worker) is no longer active."""
    # One query, not one each for the session, its user and their link worker: this runs
    # on every request.
    found = session.exec(
        select(UserAccount, SignInSession.expires_at, LinkWorker.team_id, LinkWorker.active)
        .join(SignInSession, col(SignInSession.username) == col(UserAccount.username))
        .outerjoin(LinkWorker, col(LinkWorker.id) == col(UserAccount.link_worker_id))
        .where(SignInSession.token_sha256 == digest(token))
    ).first()
    if found is None:
        return None
    user, expires_at, team_id, worker_active = found
    return _acting_for(user, team_id, worker_active) if expires_at > utcnow() else None


def end_session(session: Session, token: str) -> None:
    session.execute(delete(SignInSession).where(col(SignInSession.token_sha256) == digest(token)))
    session.commit()


# --- API keys ---------------------------------------------------------------------------


def create_api_key(
    session: Session,
    role: Role,
    identifier: str,
    label: str,
    key_id: str | None = None,
    secret: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its plain text ``srx_<id>_<secret>``, which is shown once and never kept;
    refused from ``expires_at`` on (never, if None).

    ``key_id`` and ``secret`` are only given for the demo data's well-known key."""
    if expires_at is not None and expires_at <= utcnow():
        raise AccountError("the key's expiry must be in the future")
    if role is Role.LINK_WORKER:
        raise AccountError("keys belong to organisations: use link_worker_team for a team")
    member = membership(session, role, identifier)
    key_id = key_id or secrets.token_hex(6)
    secret = secret or secrets.token_urlsafe(32)
    key = ApiKey(
        id=key_id,
        secret_sha256=digest(secret),
        organisation_kind=member.organisation_kind,
        organisation_id=member.organisation_id,
        label=label,
        expires_at=expires_at,
    )
    session.add(key)
    session.commit()
    session.refresh(key)
    return key, f"{API_KEY_PREFIX}_{key_id}_{secret}"


def is_api_key(credential: str) -> bool:
    return credential.startswith(f"{API_KEY_PREFIX}_")


def api_key_for(session: Session, credential: str) -> ApiKey | None:
    """The unrevoked, unexpired key whose plain text is ``credential``, else None. Its last
    use is recorded (at most once a minute; the caller commits)."""
    _, _, rest = credential.partition("_")
    key_id, _, secret = rest.partition("_")
    key = session.get(ApiKey, key_id) if key_id and secret else None
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_sha256, digest(secret)):
        return None
    now = utcnow()
    if key.expires_at is not None and key.expires_at <= now:
        return None
    if key.last_used_at is None or key.last_used_at <= now - KEY_USE_RECORDED_EVERY:
        # Conditional, so that of many processes seeing the same stale time, one writes.
        session.execute(
            update(ApiKey)
            .where(col(ApiKey.id) == key.id)
            .where(
                or_(
                    col(ApiKey.last_used_at).is_(None),
                    col(ApiKey.last_used_at) <= now - KEY_USE_RECORDED_EVERY,
                )
            )
            .values(last_used_at=now)
        )
    return key


def revoke_api_key(session: Session, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise AccountError(f"no API key {key_id!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        session.commit()
    return key


# --- commissioners' areas ---------------------------------------------------------------


def set_commissioner_practices(
    session: Session, commissioner_id: str, practices: list[str]
) -> None:
    """Scope a commissioning body to these practices; none: it sees every practice."""
    if not commissioner_id:
        raise AccountError("the commissioning body must not be empty")
    unknown = [ods for ods in practices if session.get(Practice, ods) is None]
    if unknown:
        raise AccountError(f"no practice {', '.join(map(repr, unknown))}")
    session.execute(
        delete(CommissionerPractice).where(
            col(CommissionerPractice.commissioner_id) == commissioner_id
        )
    )
    session.add_all(
        CommissionerPractice(commissioner_id=commissioner_id, practice_ods=ods)
        for ods in dict.fromkeys(practices)
    )
    session.commit()


def commissioner_practices(session: Session, commissioner_id: str) -> frozenset[str] | None:
    """The practices of a commissioning body's area; None if it is not scoped (it sees all)."""
    found = session.exec(
        select(CommissionerPractice.practice_ods).where(
            CommissionerPractice.commissioner_id == commissioner_id
        )
    ).all()
    return frozenset(found) or None
