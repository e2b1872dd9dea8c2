"""Channels deliver outbox messages to the world: MESH to the GP, SMTP to organisations and link
workers, GOV.UK Notify to the person. The outbox relay claims each message and hands it to the
channel for its recipient; a channel only sends, and says how a failure should be treated.

A channel's ``send`` either returns (delivered, or accepted by the provider) or raises one of
the errors below. It passes ``message.dedupe_key`` to the provider as its idempotency key where
the provider has one, so a message sent again after a crash has no second effect there.
"""

from typing import Protocol

from domain.tables import OutboxMessage


class Channel(Protocol):
    name: str

    def send(self, message: OutboxMessage) -> None:
        """Deliver one message, or raise ``TemporaryFailure``, ``PermanentFailure`` or
        ``NotConfigured``."""


class ChannelError(Exception):
    """Why a message was not delivered. The text names kinds and ids, never personal data."""


class TemporaryFailure(ChannelError):
    """Try again later, with backoff (the provider was down, busy or rate-limited)."""


class PermanentFailure(ChannelError):
    """Sending again cannot succeed (e.g. the provider rejected the request as invalid):
    the relay marks the message dead at once, for an admin to see."""


class NotConfigured(ChannelError):
    """The channel has no settings here: the message stays pending, no attempt is counted."""
