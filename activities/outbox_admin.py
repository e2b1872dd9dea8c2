"""What admins see of the outbox and may do to it: list messages (dead letters above all),
send a dead one again, count messages by status for the metrics. No payloads: they hold
personal details, and an admin needs only what failed, where to and why."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from domain.enums import MessageKind, OutboxStatus, RecipientKind
from domain.tables import OutboxMessage, table_of

OUTBOX = table_of(OutboxMessage)


class OutboxEntry(BaseModel):
    id: int
    referral_id: UUID
    kind: MessageKind
    recipient_kind: RecipientKind
    recipient_id: str
    status: OutboxStatus
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None
    payload_pruned_at: datetime | None


class NotRetryable(Exception):
    """Only a dead message can be sent again; the text says why this one cannot."""


def list_messages(
    engine: Engine,
    status: OutboxStatus | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[OutboxEntry]:
    """Newest first, ``limit`` at a time; pass the last id seen as ``before_id`` for more."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if before_id is not None:
        query = query.where(col(OutboxMessage.id) < before_id)
    with Session(engine) as session:
        return [
            OutboxEntry.model_validate(message, from_attributes=True)
            for message in session.exec(query).all()
        ]


def retry_message(engine: Engine, message_id: int) -> OutboxEntry:
    """Make a dead message pending again, due now, with its attempts counted from zero.

    Raises ``LookupError`` if there is no such message and ``NotRetryable`` if it is not dead.
    """
    with Session(engine, expire_on_commit=False) as session:
        done = session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == message_id, OUTBOX.c.status == OutboxStatus.DEAD)
            .values(
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=None,
                claimed_by=None,
                claimed_until=None,
            )
        )
        session.commit()
        message = session.get(OutboxMessage, message_id)
    if message is None:
        raise LookupError(f"no outbox message {message_id}")
    if done.rowcount == 0:  # type: ignore[attr-defined]
        raise NotRetryable(f"outbox message {message_id} is {message.status}, not dead")
    return OutboxEntry.model_validate(message, from_attributes=True)


def count_by_status(engine: Engine) -> dict[OutboxStatus, int]:
    """Messages per status, every status present (zero when none): for the metrics."""
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
        ).all()
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({OutboxStatus(status): count for status, count in rows})
    return counts
