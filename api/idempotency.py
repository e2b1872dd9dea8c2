"""Idempotency-Key: a request sent again with the same key gets the first answer and does
nothing more; the same key with a different request is refused.

The key is claimed by inserting its row before any work starts, so of several concurrent
requests the unique constraint lets exactly one do the work; the others wait for its answer.
A request that fails lets go of the key, so it can be sent again.

A request can also die without failing (its process killed): its claim has a lease, renewed
while the request runs, so once the lease lapses with no answer stored a retry with the same
key takes the claim over. The claim carries the id of the referral the request creates
(``claim_id``), and the retry creates that same referral: it finishes what the dead request
began, or finds it finished and answers as the first would have, and never makes a second.

Records are kept for ``IdempotencySettings.keep_for``: after that the key counts as new,
and old records are pruned.
"""

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, NamedTuple
from uuid import UUID, uuid4

from fastapi import Header, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from api.errors import Refused
from api.principal import Principal
from core.settings import IdempotencySettings
from domain.tables import IdempotencyRecord, utcnow

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Any unique string, e.g. a UUID. Sending the same request again with the "
        "same key returns the first response and creates nothing new.",
    ),
]

# How long a repeat waits for the first request with its key to finish (or for its claim
# to lapse, if it died).
WAIT_FOR_FIRST = 60.0
POLL_EVERY = 0.05
# Pruning old records is a sweep of the table: each process does it at most this often.
PRUNE_EVERY = 60.0
_last_pruned = 0.0


class StoredResponse(NamedTuple):
    status_code: int
    body: dict[str, Any]
    media_type: str


Work = Callable[[UUID], Awaitable[StoredResponse]]
"""The request's work, given the id of what it creates: the same on every try of one key."""


def fingerprint(operation: str, request: BaseModel) -> str:
    """Of the parsed request, so that spacing and key order do not make a request new."""
    canonical = f"{operation}\n{request.model_dump_json()}"
    return hashlib.sha256(canonical.encode()).hexdigest()


def caller_of(principal: Principal) -> str:
    return f"{principal.organisation_kind}:{principal.organisation_id}:{principal.subject}"


async def once(
    session: Session,
    principal: Principal,
    key: str | None,
    request_hash: str,
    rules: IdempotencySettings,
    work: Work,
) -> StoredResponse:
    """Every database call runs in a worker thread: on SQLite a commit may wait for another
    writer, and waiting on the event loop would hold up every other request."""
    if key is None:
        return await work(uuid4())
    caller = caller_of(principal)
    deadline = time.monotonic() + WAIT_FOR_FIRST
    while (
        claim_id := await run_in_threadpool(_claim, session, caller, key, request_hash, rules)
    ) is None:
        found = await run_in_threadpool(_stored, session, caller, key)
        if found is None:
            continue  # the first request failed and let go of the key: try to claim it
        stored_hash, status_code, stored_body, media_type = found
        if stored_hash != request_hash:
            raise Refused(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "this key was already used with a different request; use a new key",
                field="Idempotency-Key",
            )
        if status_code is not None and stored_body is not None:
            return StoredResponse(status_code, dict(stored_body), media_type or "")
        if time.monotonic() > deadline:
            raise Refused(
                status.HTTP_409_CONFLICT,
                "a request with this key is still being processed; send it again later",
                field="Idempotency-Key",
            )
        await asyncio.sleep(POLL_EVERY)
    try:
        async with _renewed(session.get_bind(), caller, key, claim_id, rules.claim_lease):  # type: ignore[arg-type]
            response = await work(claim_id)
    except BaseException:
        await run_in_threadpool(_let_go, session, caller, key)
        raise
    await run_in_threadpool(_keep, session, caller, key, response)
    return response


def _claim(
    session: Session, caller: str, key: str, request_hash: str, rules: IdempotencySettings
) -> UUID | None:
    """The claim's id if this request now holds the key, else None (another does, or did)."""
    # Also ends the read that checking the caller's sign-in began: on SQLite an open read
    # keeps another request's commit waiting.
    session.commit()
    now = utcnow()
    _prune_now_and_then(session, now - rules.keep_for)
    claim_id = uuid4()
    session.add(
        IdempotencyRecord(
            caller=caller,
            key=key,
            request_hash=request_hash,
            claim_id=claim_id,
            claimed_until=now + rules.claim_lease,
            created_at=now,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
    else:
        return claim_id
    return _renew_expired(session, caller, key, request_hash, now, rules) or _take_over_dead(
        session, caller, key, request_hash, now, rules.claim_lease
    )


def _renew_expired(
    session: Session,
    caller: str,
    key: str,
    request_hash: str,
    now: datetime,
    rules: IdempotencySettings,
) -> UUID | None:
    """A record older than ``keep_for`` is forgotten: the key starts afresh for this request."""
    claim_id = uuid4()
    renewed = session.execute(
        update(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.caller) == caller,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.created_at) < now - rules.keep_for,
        )
        .values(
            request_hash=request_hash,
            claim_id=claim_id,
            claimed_until=now + rules.claim_lease,
            created_at=now,
            status_code=None,
            response=None,
            media_type=None,
        )
    )
    session.commit()
    return claim_id if renewed.rowcount == 1 else None  # type: ignore[attr-defined]


def _take_over_dead(
    session: Session, caller: str, key: str, request_hash: str, now: datetime, lease: timedelta
) -> UUID | None:
    """The claim of a request that died (its lease lapsed with no answer stored), kept with
    its id, so that this request finishes the same referral. Of several retries at once, the
    one whose update matched takes it: the others find the lease renewed."""
    taken = session.execute(
        update(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.caller) == caller,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.request_hash) == request_hash,
            col(IdempotencyRecord.status_code).is_(None),
            or_(
                col(IdempotencyRecord.claimed_until).is_(None),
                col(IdempotencyRecord.claimed_until) < now,
            ),
        )
        .values(claimed_until=now + lease)
    )
    session.commit()
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    record = session.exec(select(IdempotencyRecord).where(*_this(caller, key))).one()
    if record.claim_id is None:  # claimed before claims carried an id
        record.claim_id = uuid4()
        session.add(record)
    claim_id = record.claim_id
    session.commit()
    return claim_id


@asynccontextmanager
async def _renewed(
    engine: Engine, caller: str, key: str, claim_id: UUID, lease: timedelta
) -> AsyncIterator[None]:
    """Renews the claim's lease while the work runs, from a session of its own (the request's
    is the work's). A process that dies stops renewing, and its claim lapses."""

    async def renew_forever() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            await run_in_threadpool(_renew, engine, caller, key, claim_id, lease)

    renewing = asyncio.create_task(renew_forever())
    try:
        yield
    finally:
        renewing.cancel()


def _renew(engine: Engine, caller: str, key: str, claim_id: UUID, lease: timedelta) -> None:
    with Session(engine) as session:
        session.execute(
            update(IdempotencyRecord)
            .where(*_this(caller, key), col(IdempotencyRecord.claim_id) == claim_id)
            .values(claimed_until=utcnow() + lease)
        )
        session.commit()


def _prune_now_and_then(session: Session, cutoff: datetime) -> None:
    global _last_pruned
    if time.monotonic() - _last_pruned < PRUNE_EVERY:
        return
    _last_pruned = time.monotonic()
    prune(session, cutoff)


def prune(session: Session, cutoff: datetime) -> int:
    """Delete the records made before ``cutoff``; how many went."""
    pruned = session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
    )
    session.commit()
    return int(pruned.rowcount)  # type: ignore[attr-defined]


def _stored(session: Session, caller: str, key: str) -> tuple[Any, ...] | None:
    found = session.exec(
        select(
            IdempotencyRecord.request_hash,
            IdempotencyRecord.status_code,
            IdempotencyRecord.response,
            IdempotencyRecord.media_type,
        ).where(*_this(caller, key))
    ).first()
    # Plain values, not a row object: reading one after the rollback would open a new
    # transaction and hold a connection across the wait.
    session.rollback()
    return tuple(found) if found is not None else None


def _let_go(session: Session, caller: str, key: str) -> None:
    session.rollback()
    session.execute(delete(IdempotencyRecord).where(*_this(caller, key)))
    session.commit()


def _keep(session: Session, caller: str, key: str, response: StoredResponse) -> None:
    record = session.exec(select(IdempotencyRecord).where(*_this(caller, key))).one()
    record.status_code, record.response, record.media_type = response
    record.claimed_until = None
    session.add(record)
    session.commit()


def _this(caller: str, key: str) -> tuple[Any, ...]:
    return (col(IdempotencyRecord.caller) == caller, col(IdempotencyRecord.key) == key)
