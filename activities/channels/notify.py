"""Texts and emails to the person through GOV.UK Notify, only as the person agreed.

The message's payload says how, written when the message is queued (see docs/messages.md):

- ``contact_consent``: true only if the person agreed to be contacted;
- ``contact_method``: ``text`` or ``email`` (``letter``, ``phone`` and ``none`` are not sent
  through Notify here);
- ``phone_number`` for a text, ``email_address`` for an email;
- ``personalisation``: the template's placeholders, e.g. the link worker's phone number and the
  first-contact date (strings only).

A message without consent, or for a method Notify does not carry, should never have been
queued: the channel refuses it as a permanent failure, so an admin sees it as a dead letter.

Notify keeps the ``reference`` of each notification but does not refuse a second one with the
same reference. So the channel first asks Notify for notifications with this message's
``dedupe_key`` as reference and sends only if there is none: a message sent again after a
crash between sending and recording has no second effect.
"""

from typing import Any

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from activities.channels import NotConfigured, PermanentFailure, TemporaryFailure
from core.settings import NotifySettings
from domain.tables import OutboxMessage

NOTIFY_METHODS = ("text", "email")


class NotifyChannel:
    name = "notify"

    def __init__(self, settings: NotifySettings) -> None:
        self._settings = settings

    def send(self, message: OutboxMessage) -> None:
        client = self._client()
        payload = message.payload
        method = payload.get("contact_method")
        if payload.get("contact_consent") is not True:
            raise PermanentFailure(f"message {message.id}: the person has not agreed to contact")
        if method not in NOTIFY_METHODS:
            raise PermanentFailure(f"message {message.id}: contact method {method!r} not by Notify")
        templates = (
            self._settings.sms_templates if method == "text" else self._settings.email_templates
        )
        template_id = templates.get(message.kind)
        if not template_id:
            raise NotConfigured(f"no Notify {method} template for {message.kind}")
        personalisation: dict[str, Any] = payload.get("personalisation") or {}
        reference = message.dedupe_key
        try:
            if client.get_all_notifications(reference=reference).get("notifications"):
                return  # sent before, by an attempt that did not live to record it
            if method == "text":
                client.send_sms_notification(
                    phone_number=payload.get("phone_number"),
                    template_id=template_id,
                    personalisation=personalisation,
                    reference=reference,
                )
            else:
                client.send_email_notification(
                    email_address=payload.get("email_address"),
                    template_id=template_id,
                    personalisation=personalisation,
                    reference=reference,
                )
        except APIError as error:
            raise _failure(error) from None

    def _client(self) -> NotificationsAPIClient:
        key = self._settings.api_key.get_secret_value()
        if not key:
            raise NotConfigured("Notify API key is not set (SOCIALRX_NOTIFY__API_KEY)")
        # A key is "<name>-<service id>-<secret>"; the client slices the two UUIDs off its end.
        if len(key) < 73:
            raise NotConfigured("Notify API key is malformed (SOCIALRX_NOTIFY__API_KEY)")
        return NotificationsAPIClient(
            key, base_url=self._settings.base_url, timeout=self._settings.timeout
        )


def _failure(error: APIError) -> PermanentFailure | TemporaryFailure:
    """Notify's answer as the relay should treat it. Only the status and Notify's error type
    are kept: Notify's message text may quote what was sent."""
    status = error.status_code
    kinds = error.message if isinstance(error.message, list) else []
    kind = next((str(e.get("error")) for e in kinds if isinstance(e, dict)), "no error body")
    text = f"Notify answered {status} {kind}"
    # 400: the request is wrong (bad number, template, personalisation); 403: the key is
    # wrong or revoked. Sending the same again cannot succeed. 429 and 5xx pass.
    if status in (400, 403, 404):
        return PermanentFailure(text)
    return TemporaryFailure(text)
