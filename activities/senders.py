"""Where outbox messages go. Swap the sender to deliver by MESH, email or a GP system API."""

import logging
from typing import Protocol

from domain.tables import OutboxMessage

log = logging.getLogger(__name__)


class MessageSender(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Deliver one message; raise to leave it in the outbox for a later try."""


class LogSender:
    """Logs that a message went out. Logs name the kind and recipient, never the payload,
    which holds patient details."""

    def send(self, message: OutboxMessage) -> None:
        log.info(
            "sent %s to %s %s for referral %s",
            message.kind,
            message.recipient_kind,
            message.recipient_id,
            message.referral_id,
        )
