"""Texts and emails to the person through GOV.UK Notify's client, against a local stand-in of
Notify's v2 API (there is no Notify sandbox): only as the person agreed, with the message's
dedupe key as Notify's reference, and Notify's errors mapped to retry or dead."""

import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from pydantic import SecretStr
from sqlalchemy import Engine

from activities.channels import NotConfigured, PermanentFailure, TemporaryFailure
from activities.channels.notify import NotifyChannel
from activities.relay import OutboxRelay
from core.settings import NotifySettings
from domain.enums import MessageKind, OutboxStatus, RecipientKind
from domain.tables import OutboxMessage, utcnow
from tests.support.notify_standin import NotifyStandIn
from tests.support.outbox import FAST, load, queue

KIND = MessageKind.PERSON_LINK_WORKER_WILL_CONTACT
PERSONALISATION = {"link_worker_phone": "0300 123 4567", "contact_by": "14 March 2026"}


@pytest.fixture
def notify() -> Iterator[NotifyStandIn]:
    standin = NotifyStandIn(service_id=str(uuid.uuid4()), secret=str(uuid.uuid4())).start()
    yield standin
    standin.stop()


def settings_for(notify: NotifyStandIn, api_key: str | None = None) -> NotifySettings:
    body = "A link worker will call you from ((link_worker_phone)) by ((contact_by))."
    return NotifySettings(
        api_key=SecretStr(api_key or notify.api_key),
        base_url=notify.base_url,
        sms_templates={KIND: notify.add_template("sms", body)},
        email_templates={KIND: notify.add_template("email", body, subject="Your referral")},
    )


def message_to_person(**payload: Any) -> OutboxMessage:
    return OutboxMessage(
        id=7,
        dedupe_key=f"{uuid.uuid4()}:assign:{KIND}:person",
        referral_id=uuid.uuid4(),
        kind=KIND,
        recipient_kind=RecipientKind.PERSON,
        recipient_id="person",
        payload={
            "contact_consent": True,
            "contact_method": "text",
            "phone_number": "07700 900461",
            "personalisation": PERSONALISATION,
        }
        | payload,
        created_at=utcnow(),
    )


def test_a_text_reaches_notify_with_the_dedupe_key_as_reference(notify: NotifyStandIn) -> None:
    message = message_to_person()

    NotifyChannel(settings_for(notify)).send(message)

    (sent,) = notify.notifications
    assert (sent["type"], sent["phone_number"]) == ("sms", "07700 900461")
    assert sent["reference"] == message.dedupe_key
    assert sent["body"] == "A link worker will call you from 0300 123 4567 by 14 March 2026."
    # Read back as the client would.
    response = requests.get(
        f"{notify.base_url}/v2/notifications/{sent['id']}",
        headers={"Authorization": f"Bearer {token(notify)}"},
        timeout=5,
    )
    assert response.status_code == 200 and response.json()["status"] == "created"


def test_an_email_reaches_notify_when_the_person_chose_email(notify: NotifyStandIn) -> None:
    message = message_to_person(contact_method="email", email_address="marigold@example.org")

    NotifyChannel(settings_for(notify)).send(message)

    (sent,) = notify.notifications
    assert (sent["type"], sent["email_address"]) == ("email", "marigold@example.org")


@pytest.mark.parametrize(
    "payload",
    [
        {"contact_consent": False},
        {"contact_consent": None},
        {"contact_method": "phone"},
        {"contact_method": "none"},
        {"contact_method": "letter"},
    ],
)
def test_nothing_reaches_notify_unless_the_person_agreed_to_text_or_email(
    notify: NotifyStandIn, payload: dict[str, Any]
) -> None:
    with pytest.raises(PermanentFailure):
        NotifyChannel(settings_for(notify)).send(message_to_person(**payload))
    assert notify.requests == []


def test_a_message_sent_again_after_a_crash_is_not_sent_twice(notify: NotifyStandIn) -> None:
    channel = NotifyChannel(settings_for(notify))
    message = message_to_person()
    channel.send(message)
    channel.send(message)  # the relay died before recording the first send
    assert len(notify.sent_with_reference(message.dedupe_key)) == 1


@pytest.mark.parametrize(
    ("status", "failure"),
    [(429, TemporaryFailure), (500, TemporaryFailure)],
)
def test_busy_or_broken_notify_is_retried_later(
    notify: NotifyStandIn, status: int, failure: type[Exception]
) -> None:
    notify.fail_next(status)
    with pytest.raises(failure, match=f"Notify answered {status}"):
        NotifyChannel(settings_for(notify)).send(message_to_person())
    assert notify.notifications == []


def test_a_request_notify_refuses_is_permanent_and_the_error_text_is_not_kept(
    notify: NotifyStandIn,
) -> None:
    with pytest.raises(PermanentFailure) as refused:
        NotifyChannel(settings_for(notify)).send(message_to_person(phone_number="not a phone"))
    assert str(refused.value) == "Notify answered 400 ValidationError"

    missing = message_to_person(personalisation={"link_worker_phone": "0300 123 4567"})
    with pytest.raises(PermanentFailure, match="400 BadRequestError"):
        NotifyChannel(settings_for(notify)).send(missing)


def test_a_wrong_key_is_refused_with_403_and_permanent(notify: NotifyStandIn) -> None:
    wrong_secret = f"socialrx_test-{notify.service_id}-{uuid.uuid4()}"
    with pytest.raises(PermanentFailure, match="403 AuthError"):
        NotifyChannel(settings_for(notify, api_key=wrong_secret)).send(message_to_person())
    wrong_service = f"socialrx_test-{uuid.uuid4()}-{notify.secret}"
    with pytest.raises(PermanentFailure, match="403 AuthError"):
        NotifyChannel(settings_for(notify, api_key=wrong_service)).send(message_to_person())
    assert notify.notifications == []


def test_the_standin_refuses_a_stale_token_and_a_malformed_body(notify: NotifyStandIn) -> None:
    settings = settings_for(notify)
    url = f"{notify.base_url}/v2/notifications/sms"
    stale = token(notify, issued_at=int(time.time()) - 60)
    response = requests.post(url, json={}, headers={"Authorization": f"Bearer {stale}"}, timeout=5)
    assert response.status_code == 403
    assert response.json()["errors"] == [
        {
            "error": "AuthError",
            "message": "Error: Your system clock must be accurate to within 30 seconds",
        }
    ]
    fresh = {"Authorization": f"Bearer {token(notify)}"}
    response = requests.post(url, json={"phone_number": "07700900461"}, headers=fresh, timeout=5)
    assert response.status_code == 400
    assert response.json() == {
        "status_code": 400,
        "errors": [{"error": "ValidationError", "message": "template_id is a required property"}],
    }
    not_uuid = {"phone_number": "07700900461", "template_id": "abc"}
    response = requests.post(url, json=not_uuid, headers=fresh, timeout=5)
    assert response.json()["errors"][0]["message"] == "template_id is not a valid UUID"
    email_template = settings.email_templates[KIND]
    wrong_type = {"phone_number": "07700900461", "template_id": email_template}
    response = requests.post(url, json=wrong_type, headers=fresh, timeout=5)
    assert response.json()["errors"][0]["message"] == (
        "email template is not suitable for sms notification"
    )
    response = requests.get(url.replace("/sms", "/nope"), headers={}, timeout=5)
    assert response.status_code == 403


def test_without_a_key_or_template_messages_stay_pending(notify: NotifyStandIn) -> None:
    with pytest.raises(NotConfigured):
        NotifyChannel(NotifySettings()).send(message_to_person())
    no_template = settings_for(notify).model_copy(update={"sms_templates": {}})
    with pytest.raises(NotConfigured):
        NotifyChannel(no_template).send(message_to_person())
    assert notify.notifications == []


def test_through_the_relay_a_rate_limited_text_goes_on_the_next_try(
    engine: Engine, notify: NotifyStandIn
) -> None:
    payload = message_to_person().payload
    (message_id,) = queue(
        engine, 1, recipient_kind=RecipientKind.PERSON, kind=KIND, payload=payload
    )
    notify.fail_next(429, times=2)

    OutboxRelay(engine, {RecipientKind.PERSON: NotifyChannel(settings_for(notify))}, FAST).drain()

    message = load(engine, message_id)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 3)
    assert message.last_error == "TemporaryFailure: Notify answered 429 RateLimitError"
    assert len(notify.sent_with_reference(message.dedupe_key)) == 1


def token(notify: NotifyStandIn, issued_at: int | None = None) -> str:
    claims = {"iss": notify.service_id, "iat": issued_at or int(time.time())}
    return jwt.encode(claims, notify.secret, algorithm="HS256")
