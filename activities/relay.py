"""The outbox relay: claims due messages, hands each to its recipient's channel, records what
happened, and prunes the personal payload of messages sent long enough ago.

At least once out: a message is marked sent only after its channel returned, so a relay that
dies in between leaves it claimed; the claim (a lease) lapses and another relay sends it again.
Exactly once in effect: every channel passes ``dedupe_key`` to its provider as the idempotency
key, so that second send changes nothing there.

Claiming is one ``WITH due AS MATERIALIZED (SELECT ... FOR UPDATE SKIP LOCKED) UPDATE ...
WHERE id IN (SELECT id FROM due) RETURNING id``:
on PostgreSQL several relays skip each other's rows instead of waiting; SQLite has no row locks
(``FOR UPDATE`` is left out) but runs one writing statement at a time, so the condition on the
lease alone decides there. Sending happens outside any transaction.
"""

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine, or_, select, update
from sqlmodel import Session, col
from sqlmodel import select as select_model

from activities.channels import Channel, ChannelError, NotConfigured, PermanentFailure
from core.settings import OutboxSettings
from domain.enums import OutboxStatus, RecipientKind
from domain.tables import OutboxMessage, table_of, utcnow

log = logging.getLogger(__name__)
OUTBOX = table_of(OutboxMessage)
# What a pruned message keeps: identifiers, codes and dates, never a person's details.
NON_PERSONAL_PAYLOAD_KEYS = frozenset(
    {
        "referral_id",
        "kind",
        "service_referral_id",
        "service_id",
        "respond_by",
        "practice_ods",
        "snomed",
        "closure_reason",
        "closed_at",
        "received_at",
    }
)
PRUNE_BATCH = 500


@dataclass
class RelayPass:
    """What one pass did with the messages it claimed."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    not_configured: int = 0
    lease_lost: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.dead + self.not_configured + self.lease_lost


def relay_name() -> str:
    """Who holds a claim: the host and process, and a random part so that two relays in one
    process hold different claims."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid4().hex[:8]}"


def error_kind(error: Exception) -> str:
    """What ``last_error`` keeps: a channel's own text (kinds and ids by its contract), or only
    the type of anything else, whose text might hold anything."""
    if isinstance(error, ChannelError):
        return f"{type(error).__name__}: {error}"[:200]
    return type(error).__name__[:200]


def pruned_payload(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key in NON_PERSONAL_PAYLOAD_KEYS}


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        channels: Mapping[RecipientKind, Channel],
        settings: OutboxSettings,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._engine = engine
        self._channels = dict(channels)
        self._settings = settings
        self.name = name or relay_name()
        self._clock = clock
        self._jitter = jitter
        self._said_not_configured: set[RecipientKind] = set()

    # --- one pass -----------------------------------------------------------------------

    def run_once(self) -> RelayPass:
        """Claim up to a batch of due messages and try each once."""
        result = RelayPass()
        for message in self._claim():
            self._deliver(message, result)
        return result

    def drain(self) -> RelayPass:
        """Pass after pass until nothing is due (messages waiting for a retry are not due)."""
        total = RelayPass()
        while True:
            result = self.run_once()
            for name in ("sent", "retrying", "dead", "not_configured", "lease_lost"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
            # Not-configured messages come back at once when the recheck is short.
            if result.claimed <= result.not_configured:
                return total

    def _claim(self) -> list[OutboxMessage]:
        now = self._clock()
        due = (
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.status == OutboxStatus.PENDING,
                or_(OUTBOX.c.next_attempt_at.is_(None), OUTBOX.c.next_attempt_at <= now),
                or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now),
            )
            .order_by(OUTBOX.c.id)
            .limit(self._settings.batch_size)
            .with_for_update(skip_locked=True)
            # Evaluated once: as a plain ``IN (subquery)`` PostgreSQL may scan it again for
            # the UPDATE and so claim more than a batch.
            .cte("due")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        claim = (
            update(OUTBOX)
            .where(
                OUTBOX.c.id.in_(select(due.c.id)),
                # Checked again by the UPDATE itself: on SQLite nothing locked the rows above.
                OUTBOX.c.status == OutboxStatus.PENDING,
                or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now),
            )
            .values(claimed_by=self.name, claimed_until=now + self._settings.lease)
            .returning(OUTBOX.c.id)
        )
        with Session(self._engine, expire_on_commit=False) as session:
            ids = list(session.execute(claim).scalars())
            session.commit()
            if not ids:
                return []
            return list(
                session.exec(
                    select_model(OutboxMessage)
                    .where(col(OutboxMessage.id).in_(ids))
                    .order_by(col(OutboxMessage.id))
                ).all()
            )

    def _deliver(self, message: OutboxMessage, result: RelayPass) -> None:
        channel = self._channels.get(message.recipient_kind)
        try:
            if channel is None:
                raise NotConfigured(f"no channel for {message.recipient_kind} recipients")
            channel.send(message)
        except NotConfigured as error:
            self._not_configured(message, error)
            result.not_configured += 1
            return
        except Exception as error:
            counted = self._failed(message, error)
            if counted == OutboxStatus.DEAD:
                result.dead += 1
            elif counted == OutboxStatus.PENDING:
                result.retrying += 1
            else:
                result.lease_lost += 1
            return
        if self._record(message, status=OutboxStatus.SENT, attempts=message.attempts + 1):
            result.sent += 1
        else:
            result.lease_lost += 1

    def _not_configured(self, message: OutboxMessage, error: NotConfigured) -> None:
        if message.recipient_kind not in self._said_not_configured:
            self._said_not_configured.add(message.recipient_kind)
            log.info("messages to %s recipients stay pending: %s", message.recipient_kind, error)
        # No attempt is counted: nothing was tried. Looked at again after a while.
        self._record(
            message,
            status=OutboxStatus.PENDING,
            attempts=message.attempts,
            next_attempt_at=self._clock() + self._settings.not_configured_recheck,
        )

    def _failed(self, message: OutboxMessage, error: Exception) -> OutboxStatus | None:
        attempts = message.attempts + 1
        permanent = isinstance(error, PermanentFailure)
        dead = permanent or attempts >= self._settings.max_attempts
        kind = error_kind(error)
        if isinstance(error, ChannelError):
            log.warning(
                "%s message %s failed (attempt %d): %s", message.kind, message.id, attempts, kind
            )
        else:
            # Not a channel's own error: a bug. Its trace goes to the log, not the database.
            log.exception(
                "%s message %s failed (attempt %d) unexpectedly", message.kind, message.id, attempts
            )
        status = OutboxStatus.DEAD if dead else OutboxStatus.PENDING
        recorded = self._record(
            message,
            status=status,
            attempts=attempts,
            next_attempt_at=None if dead else self._clock() + self.backoff(attempts),
            last_error=kind,
        )
        if dead and recorded:
            log.error("%s message %s is dead after %d attempts", message.kind, message.id, attempts)
        return status if recorded else None

    def backoff(self, attempts: int) -> timedelta:
        """Exponential, capped, with jitter so that messages failing together spread out:
        between half and all of ``retry_base * 2 ** (attempts - 1)``."""
        ceiling = min(
            self._settings.retry_max, self._settings.retry_base * 2 ** min(attempts - 1, 30)
        )
        return ceiling * (0.5 + 0.5 * self._jitter())

    def _record(
        self,
        message: OutboxMessage,
        status: OutboxStatus,
        attempts: int,
        next_attempt_at: datetime | None = None,
        last_error: str | None = None,
    ) -> bool:
        """Write the outcome and give the claim back, if the claim is still this relay's."""
        values: dict[str, Any] = {
            "status": status,
            "attempts": attempts,
            "next_attempt_at": next_attempt_at,
            "claimed_by": None,
            "claimed_until": None,
        }
        if status == OutboxStatus.SENT:
            values["sent_at"] = self._clock()
        if last_error is not None:
            values["last_error"] = last_error
        with Session(self._engine) as session:
            done = session.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == message.id, OUTBOX.c.claimed_by == self.name)
                .values(**values)
            )
            session.commit()
        if done.rowcount == 0:  # type: ignore[attr-defined]
            # The lease lapsed and another relay claimed the message; its outcome counts.
            log.warning("relay %s lost its claim on message %s", self.name, message.id)
            return False
        return True

    # --- pruning ------------------------------------------------------------------------

    def prune(self) -> int:
        """Strip the personal payload of messages sent more than ``prune_after`` ago."""
        now = self._clock()
        pruned = 0
        while True:
            with Session(self._engine) as session:
                rows = session.execute(
                    select(OUTBOX.c.id, OUTBOX.c.payload)
                    .where(
                        OUTBOX.c.status == OutboxStatus.SENT,
                        OUTBOX.c.sent_at < now - self._settings.prune_after,
                        OUTBOX.c.payload_pruned_at.is_(None),
                    )
                    .order_by(OUTBOX.c.id)
                    .limit(PRUNE_BATCH)
                ).all()
                for row in rows:
                    session.execute(
                        update(OUTBOX)
                        .where(OUTBOX.c.id == row.id)
                        .values(payload=pruned_payload(row.payload), payload_pruned_at=now)
                    )
                session.commit()
            pruned += len(rows)
            if len(rows) < PRUNE_BATCH:
                return pruned

    # --- the loop -----------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Pass after pass; waits ``poll_interval`` whenever a pass found less than a batch,
        and prunes every ``prune_interval``. Errors (the database away) are logged and the
        loop goes on."""
        stop = stop or asyncio.Event()
        pruned_at = float("-inf")
        log.info("outbox relay %s started", self.name)
        while not stop.is_set():
            full_batch = False
            try:
                if time.monotonic() - pruned_at >= self._settings.prune_interval.total_seconds():
                    pruned_at = time.monotonic()
                    if count := await asyncio.to_thread(self.prune):
                        log.info("pruned the personal payload of %d sent messages", count)
                result = await asyncio.to_thread(self.run_once)
                full_batch = result.claimed >= self._settings.batch_size
            except Exception:
                log.exception("outbox relay pass failed; trying again")
            if not full_batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        stop.wait(), timeout=self._settings.poll_interval.total_seconds()
                    )
