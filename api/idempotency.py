"""Idempotency-Key: a request sent again with the same key gets the first answer and does
nothing more; the same key with a different request is refused.

The key is claimed by inserting its row before any work starts, so of several concurrent
requests the unique constraint lets exactly one do the work; the others wait for its answer.
A request that fails lets go of the key, so it can be sent again.
"""

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NamedTuple

from fastapi import Header, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from api.errors import Refused
from api.principal import Principal
from domain.tables import IdempotencyRecord

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

# How long a repeat waits for the first request with its key to finish.
WAIT_FOR_FIRST = 60.0
POLL_EVERY = 0.05


class StoredResponse(NamedTuple):
    status_code: int
    body: dict[str, Any]
    media_type: str


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
    work: Callable[[], Awaitable[StoredResponse]],
) -> StoredResponse:
    """Every database call runs in a worker thread: on SQLite a commit may wait for another
    writer, and waiting on the event loop would hold up every other request."""
    if key is None:
        return await work()
    caller = caller_of(principal)
    deadline = time.monotonic() + WAIT_FOR_FIRST
    while not await run_in_threadpool(_claim, session, caller, key, request_hash):
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
        response = await work()
    except BaseException:
        await run_in_threadpool(_let_go, session, caller, key)
        raise
    await run_in_threadpool(_keep, session, caller, key, response)
    return response


def _claim(session: Session, caller: str, key: str, request_hash: str) -> bool:
    # Also ends the read that checking the caller's sign-in began: on SQLite an open read
    # keeps another request's commit waiting.
    session.commit()
    session.add(IdempotencyRecord(caller=caller, key=key, request_hash=request_hash))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def _stored(session: Session, caller: str, key: str) -> tuple[Any, ...] | None:
    found = session.exec(
        select(
            IdempotencyRecord.request_hash,
            IdempotencyRecord.status_code,
            IdempotencyRecord.response,
            IdempotencyRecord.media_type,
        ).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key)
    ).first()
    # Plain values, not a row object: reading one after the rollback would open a new
    # transaction and hold a connection across the wait.
    session.rollback()
    return tuple(found) if found is not None else None


def _let_go(session: Session, caller: str, key: str) -> None:
    session.rollback()
    session.execute(_this(caller, key))
    session.commit()


def _keep(session: Session, caller: str, key: str, response: StoredResponse) -> None:
    record = session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.caller == caller, IdempotencyRecord.key == key
        )
    ).one()
    record.status_code, record.response, record.media_type = response
    session.add(record)
    session.commit()


def _this(caller: str, key: str) -> Any:
    return delete(IdempotencyRecord).where(
        col(IdempotencyRecord.caller) == caller, col(IdempotencyRecord.key) == key
    )
