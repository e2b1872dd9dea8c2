"""Signed action links: ``/act/<token>`` in an organisation's email answers one service
referral without signing in.

The token is ``<link id>.<signature>``: the id of an ``ActionLink`` row (random, from the
email's outbox message) and an HMAC-SHA256 of it under a secret from the settings. The
signature makes a token that was not issued (a guessed or altered id) fail before the
database is asked; the row holds the scope (one service referral of one organisation), the
expiry and the uses spent, so a link can be revoked or used up.
"""

import base64
import hashlib
import hmac
import uuid
from uuid import UUID

ACTION_LINK_NAMESPACE = UUID("2f7c0b6e-51a4-4d55-9d07-6f0d3c1a9e21")


def link_id_for(dedupe_key: str) -> UUID:
    """The one link of one outbox message, whatever the attempt that sends it: a resent
    email carries the same link."""
    return uuid.uuid5(ACTION_LINK_NAMESPACE, dedupe_key)


def _signature(secret: str, purpose: str, link_id: UUID) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{link_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(secret: str, link_id: UUID) -> str:
    return f"{link_id.hex}.{_signature(secret, 'action-link', link_id)}"


def link_id_of(secret: str, token: str) -> UUID | None:
    """The link a token names, if its signature is ours; None for anything else."""
    id_part, _, signature = token.partition(".")
    try:
        link_id = UUID(hex=id_part)
    except ValueError:
        return None
    if len(id_part) != 32 or not hmac.compare_digest(
        signature, _signature(secret, "action-link", link_id)
    ):
        return None
    return link_id


def form_token_for(secret: str, link_id: UUID) -> str:
    """The CSRF token of the link's page forms: bound to the link, as no cookie is."""
    return _signature(secret, "action-link-form", link_id)
