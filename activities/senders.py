"""A channel for development and tests: logs that a message went out and sends nothing."""

import logging

from domain.tables import OutboxMessage

log = logging.getLogger(__name__)


class LogSender:
    """Logs that a message went out. Logs name the kind and recipient, never the payload,
    which holds patient details."""

    name = "log"

    def send(self, message: OutboxMessage) -> None:
        log.info(
            "sent %s to %s %s for referral %s",
            message.kind,
            message.recipient_kind,
            message.recipient_id,
            message.referral_id,
        )
