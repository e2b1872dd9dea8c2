"""Signing in with a password, guarded, for the JSON API's ``POST /auth/token`` and the
sign-in page alike.

- Failed sign-ins are counted per user name and per client address in ``sign_in_throttle``,
  which every API process shares. After ``user_failures_before_lock`` (or
  ``address_failures_before_lock``) failures, each further failure locks that name or
  address for ``lock``, doubling up to ``lock_max``; while locked, even the right password
  is refused, without being checked. Failures are forgotten ``forget_failures_after`` the
  last one, and their rows pruned.
- At most ``hashing_concurrency`` passwords are checked at once in one process: argon2 takes
  a core and tens of MiB per check, so a flood of sign-ins waits its turn instead of taking
  every core and gigabytes of memory; one that waits longer than ``hashing_wait`` is refused
  as busy.
- Every refused sign-in of an existing account is written to the access log, never with the
  password. A name that is no account is not written (it may be anything typed into the
  box, a password or a patient's name included); it is still counted, as a digest.
"""

import asyncio
import hashlib
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import NamedTuple

from anyio import to_thread
from sqlalchemy import case, delete, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from accounts.credentials import check_password
from core.settings import SignInSettings
from domain.accounts import AccessLog, AccessOutcome, SignInThrottle, UserAccount
from domain.tables import table_of, utcnow

_THROTTLE = table_of(SignInThrottle)
_ACCESS_LOG = table_of(AccessLog)
_LONGEST_DOUBLING = 30  # 2**30 locks is beyond any lock_max; more would overflow timedelta


class SignInRefused(Exception):
    """A sign-in that did not succeed; ``str()`` says so in words fit to show."""

    status_code = 401
    retry_after: int | None = None
    """Seconds after which trying again may succeed, for the Retry-After header; None for a
    wrong password, which trying again will not mend."""


class WrongPassword(SignInRefused):
    def __init__(self) -> None:
        # One message for every cause: which part was wrong is not told.
        super().__init__("Wrong user name or password, or the account is deactivated.")


class TooManyFailures(SignInRefused):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = math.ceil(retry_after / 60)
        wait = "a minute" if minutes == 1 else f"{minutes} minutes"
        super().__init__(
            "Too many failed sign-ins for this user name or from this address. "
            f"Wait {wait}, then try again."
        )


class HashingBusy(SignInRefused):
    status_code = 503
    retry_after = 5

    def __init__(self) -> None:
        super().__init__(
            "The service is busy signing other people in. Wait a few seconds, then try again."
        )


class PasswordGate:
    """At most ``concurrency`` password checks at once in this process.

    A sign-in waits for its turn on the event loop, holding no worker thread: waiting in a
    thread would let a flood of sign-ins take every thread of the pool that the API's plain
    ``def`` routes run in, and so stall the whole API, not only signing in."""

    def __init__(self, concurrency: int, wait: timedelta) -> None:
        self._turns = asyncio.Semaphore(concurrency)
        self._wait = wait.total_seconds()

    @classmethod
    def from_settings(cls, settings: SignInSettings) -> "PasswordGate":
        return cls(settings.hashing_concurrency, settings.hashing_wait)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        try:
            await asyncio.wait_for(self._turns.acquire(), self._wait)
        except TimeoutError:
            raise HashingBusy() from None
        try:
            yield
        finally:
            self._turns.release()


def _key(kind: str, value: str) -> str:
    # A digest: the name typed may be a mistyped password, and an address is personal data.
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


async def sign_in(
    session: Session,
    settings: SignInSettings,
    gate: PasswordGate,
    username: str,
    password: str,
    address: str,
    action: str,
) -> UserAccount:
    """The account, if ``password`` is its password and neither the name nor the address is
    locked; else raises ``SignInRefused``. ``action`` (e.g. ``POST /auth/token``) is what the
    access log records as done. The database work and the hashing run in worker threads."""
    keys = _Keys(user=_key("user", username), address=_key("address", address))
    await to_thread.run_sync(_refuse_if_locked, session, keys, username, action)
    async with gate.turn():
        user = await to_thread.run_sync(check_password, session, username, password)
    return await to_thread.run_sync(_outcome, session, settings, keys, user, username, action)


class _Keys(NamedTuple):
    user: str
    address: str


def _refuse_if_locked(session: Session, keys: _Keys, username: str, action: str) -> None:
    now = utcnow()
    locked_until = session.execute(
        select(_THROTTLE.c.locked_until)
        .where(_THROTTLE.c.key.in_(keys))
        .where(_THROTTLE.c.locked_until > now)
        .order_by(_THROTTLE.c.locked_until.desc())
    ).scalar()
    session.commit()
    if locked_until is not None:
        _log_refusal(session, username, f"{action}: refused, locked after failed sign-ins", now)
        raise TooManyFailures(max(1, math.ceil((locked_until - now).total_seconds())))


def _outcome(
    session: Session,
    settings: SignInSettings,
    keys: _Keys,
    user: UserAccount | None,
    username: str,
    action: str,
) -> UserAccount:
    """Forgive the name's failures after a success, or count a failure against both."""
    now = utcnow()
    if user is not None:
        # The name's failures are forgiven; the address's are not, or an attacker with one
        # account of their own could clear their address's count between guesses.
        session.execute(delete(_THROTTLE).where(_THROTTLE.c.key == keys.user))
        session.commit()
        return user
    _count_failure(session, settings, keys.user, settings.user_failures_before_lock, now)
    _count_failure(session, settings, keys.address, settings.address_failures_before_lock, now)
    _prune(session, settings, now)
    _log_refusal(session, username, f"{action}: refused, wrong password or inactive", now)
    raise WrongPassword()


def _count_failure(
    session: Session, settings: SignInSettings, key: str, before_lock: int, now: datetime
) -> None:
    stale = now - settings.forget_failures_after
    # One statement, so that API processes counting at once cannot lose a failure.
    upsert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    counted = (
        upsert(_THROTTLE)
        .values(key=key, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[_THROTTLE.c.key],
            set_={
                "failures": case(
                    (_THROTTLE.c.last_failure_at < stale, 1), else_=_THROTTLE.c.failures + 1
                ),
                "last_failure_at": now,
            },
        )
        .returning(_THROTTLE.c.failures)
    )
    failures: int = session.execute(counted).scalar_one()
    if failures >= before_lock:
        doublings = min(failures - before_lock, _LONGEST_DOUBLING)
        lock = min(settings.lock * 2**doublings, settings.lock_max)
        session.execute(
            _THROTTLE.update().where(_THROTTLE.c.key == key).values(locked_until=now + lock)
        )
    session.commit()


def _prune(session: Session, settings: SignInSettings, now: datetime) -> None:
    """Forget failures long past whose lock (if any) is over: the table stays small."""
    session.execute(
        delete(_THROTTLE)
        .where(_THROTTLE.c.last_failure_at < now - settings.forget_failures_after)
        .where(or_(_THROTTLE.c.locked_until.is_(None), _THROTTLE.c.locked_until <= now))
    )
    session.commit()


def _log_refusal(session: Session, username: str, action: str, now: datetime) -> None:
    user = session.get(UserAccount, username)
    if user is None:
        return
    session.execute(
        insert(_ACCESS_LOG).values(
            at=now,
            subject=user.username,
            organisation_kind=user.organisation_kind,
            organisation_id=user.organisation_id,
            action=action,
            referral_id=None,
            outcome=AccessOutcome.FORBIDDEN,
        )
    )
    session.commit()
