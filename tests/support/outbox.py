"""Outbox rows to relay: one referral (the foreign key wants it) and as many messages as asked."""

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Engine
from sqlmodel import Session

from core.settings import OutboxSettings
from domain.enums import MessageKind, RecipientKind
from domain.tables import LinkWorkerTeam, OutboxMessage, Practice, Referral, utcnow

# Retries due at once, so that tests need not wait for backoff.
FAST = OutboxSettings(
    retry_base=timedelta(0),
    poll_interval=timedelta(milliseconds=20),
    batch_size=10,
)


def make_referral(engine: Engine) -> UUID:
    with Session(engine) as session:
        if session.get(Practice, "A81001") is None:
            session.add(LinkWorkerTeam(id="team-millbrook", name="Millbrook link workers"))
            session.add(
                Practice(ods_code="A81001", name="Millbrook Surgery", team_id="team-millbrook")
            )
            session.commit()
        referral = Referral(practice_ods="A81001")
        session.add(referral)
        session.commit()
        return referral.id


def queue(
    engine: Engine,
    count: int,
    recipient_kind: RecipientKind = RecipientKind.ORGANISATION,
    kind: MessageKind = MessageKind.ORGANISATION_REFERRAL,
    payload: dict[str, Any] | None = None,
    recipient_id: str = "org-1",
) -> list[int]:
    referral_id = make_referral(engine)
    with Session(engine) as session:
        messages = [
            OutboxMessage(
                dedupe_key=f"{referral_id}:step-{n}:{kind}:{uuid4().hex[:6]}",
                referral_id=referral_id,
                kind=kind,
                recipient_kind=recipient_kind,
                recipient_id=recipient_id,
                payload=payload or {"referral_id": str(referral_id), "n": n},
                created_at=utcnow(),
            )
            for n in range(count)
        ]
        session.add_all(messages)
        session.commit()
        return [m.id for m in messages if m.id is not None]


def load(engine: Engine, message_id: int) -> OutboxMessage:
    with Session(engine) as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        return message
