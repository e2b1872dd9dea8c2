"""Email to organisations and link workers, delivered to a real SMTP server (aiosmtpd), with
no personal data in it."""

from collections.abc import Iterator
from datetime import date, datetime
from email import message_from_bytes, policy
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from activities.channels import NotConfigured, PermanentFailure, TemporaryFailure
from activities.channels.email import EmailChannel, message_id_for
from activities.outbox import queue_message
from activities.relay import OutboxRelay
from catalogue.tables import Organization, Service
from core.settings import SmtpSettings
from domain.enums import (
    GpOutcomeSharing,
    MessageKind,
    OrganisationSharing,
    OutboxStatus,
    RecipientKind,
)
from domain.messages import SYSTEM, MessageSpec, Projection
from domain.tables import Consent, LinkWorker, OutboxMessage, Person, ServiceReferral, utcnow
from tests.messages.smtp_server import Inbox, smtp_server
from tests.support.outbox import FAST, load, make_referral

PUBLIC_URL = "https://socialrx.example.nhs.uk"
PERSON: dict[str, Any] = {
    "nhs_number": "9434765919",
    "given_name": "Marigold",
    "family_name": "Featherstonehaugh",
    "birth_date": date(1948, 3, 14),
    "postcode": "MB3 7QX",
    "address": "14 Quillfeather Lane, Millbrook",
    "phone": "07700 900461",
    "email": "marigold@example.org",
    "reason": "Widowed last spring, rarely leaves the house, low mood",
}
RESPOND_BY = datetime(2026, 3, 14, 17, 0, tzinfo=datetime.now().astimezone().tzinfo)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as inbox:
        yield inbox


def channel(engine: Engine, inbox: Inbox) -> EmailChannel:
    settings = SmtpSettings(
        host=inbox.host, port=inbox.port, security="none", from_address="referrals@socialrx.test"
    )
    return EmailChannel(engine, settings, PUBLIC_URL)


def directory(engine: Engine, service_email: str | None = None) -> None:
    with Session(engine) as session:
        session.add(
            Organization(id="org-walks", name="Millbrook Walkers", email="hello@walks.test")
        )
        session.add(
            Service(
                id="svc-walks",
                organization_id="org-walks",
                name="Millbrook health walks",
                email=service_email,
            )
        )
        session.commit()


def queue_organisation_message(engine: Engine, kind: MessageKind) -> OutboxMessage:
    """Through the real queueing code, so the payload holds what it holds in production: for
    a new referral, the person's contact details and reason."""
    referral_id = make_referral(engine)
    service_referral_id = uuid4()
    with Session(engine, expire_on_commit=False) as session:
        session.add(Person(referral_id=referral_id, **PERSON))
        session.add(
            Consent(
                referral_id=referral_id,
                share_with_organisations=OrganisationSharing.CONTACT_AND_REASON,
                outcome_to_gp=GpOutcomeSharing.DETAILS,
            )
        )
        session.add(
            ServiceReferral(
                id=service_referral_id,
                referral_id=referral_id,
                service_id="svc-walks",
                organisation_id="org-walks",
                sent_at=utcnow(),
                respond_by=RESPOND_BY,
            )
        )
        session.commit()
        projection = Projection(
            referral_id=referral_id,
            step_key="connect-1",
            at=utcnow(),
            actor=SYSTEM,
            action="connected",
            status="connecting",
        )
        spec = MessageSpec(
            kind=kind,
            recipient_kind=RecipientKind.ORGANISATION,
            recipient_id="org-walks",
            subject_id=str(service_referral_id),
        )
        queue_message(session, projection, spec)
        session.commit()
        message = session.exec(select(OutboxMessage)).one()
    return message


def test_a_new_referral_email_reaches_the_service_and_holds_no_personal_data(
    engine: Engine, inbox: Inbox
) -> None:
    directory(engine, service_email="walks@walks.test")
    message = queue_organisation_message(engine, MessageKind.ORGANISATION_REFERRAL)
    assert message.payload["person"]["given_name"] == "Marigold"  # what must not leak

    OutboxRelay(engine, {RecipientKind.ORGANISATION: channel(engine, inbox)}, FAST).drain()

    assert load(engine, message.id or 0).status == OutboxStatus.SENT
    (mail,) = inbox.mails
    assert mail.rcpt_tos == ["walks@walks.test"]
    assert mail.mail_from == "referrals@socialrx.test"
    parsed = message_from_bytes(mail.raw, policy=policy.default)
    body = parsed.get_body().get_content()  # type: ignore[union-attr]
    # Raw as sent, and decoded, in case an encoding hid a value from a plain search.
    raw = mail.raw.decode() + str(parsed["Subject"]) + body
    personal = [str(value) for value in PERSON.values()] + [
        "Marigold",
        "Featherstonehaugh",
        "Quillfeather",
        "900461",
        "07700900461",
        "1948",
        "14/03/1948",
        "MB3",
        "low mood",
        "Widowed",
    ]
    assert [value for value in personal if value.lower() in raw.lower()] == []
    assert parsed["Subject"] == "New referral for Millbrook health walks"
    assert parsed["Message-ID"] == message_id_for(message.dedupe_key, "referrals@socialrx.test")
    service_referral_id = message.payload["service_referral_id"]
    assert f"{PUBLIC_URL}/organisation/service-referrals/{service_referral_id}" in body
    assert "14 March 2026" in body


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        (MessageKind.ORGANISATION_REMINDER, "Reminder: a referral for Millbrook health walks"),
        (
            MessageKind.ORGANISATION_AUTO_DECLINED,
            "A referral for Millbrook health walks has closed",
        ),
        (MessageKind.ORGANISATION_WITHDRAWN, "A referral for Millbrook health walks has been"),
    ],
)
def test_each_organisation_notice_goes_to_the_organisation_without_a_service_address(
    engine: Engine, inbox: Inbox, kind: MessageKind, subject: str
) -> None:
    directory(engine)
    message = queue_organisation_message(engine, kind)

    channel(engine, inbox).send(message)

    (mail,) = inbox.mails
    assert mail.rcpt_tos == ["hello@walks.test"]
    parsed = message_from_bytes(mail.raw, policy=policy.default)
    assert str(parsed["Subject"]).strip().startswith(subject)


def test_a_link_worker_notice_goes_to_the_link_worker_row(engine: Engine, inbox: Inbox) -> None:
    referral_id = make_referral(engine)
    with Session(engine) as session:
        session.add(
            LinkWorker(
                id="lw-amira", name="Amira", team_id="team-millbrook", email="amira@pcn.test"
            )
        )
        session.commit()
    message = OutboxMessage(
        id=1,
        dedupe_key=f"{referral_id}:assign:link_worker_assigned:lw-amira",
        referral_id=referral_id,
        kind=MessageKind.LINK_WORKER_ASSIGNED,
        recipient_kind=RecipientKind.LINK_WORKER,
        recipient_id="lw-amira",
        payload={"referral_id": str(referral_id)},
        created_at=utcnow(),
    )

    channel(engine, inbox).send(message)

    (mail,) = inbox.mails
    assert mail.rcpt_tos == ["amira@pcn.test"]
    parsed = message_from_bytes(mail.raw, policy=policy.default)
    body = parsed.get_body().get_content()  # type: ignore[union-attr]
    assert f"{PUBLIC_URL}/referrals/{referral_id}" in body


def test_refusals_and_missing_settings_say_how_the_relay_should_treat_them(
    engine: Engine, inbox: Inbox
) -> None:
    directory(engine)
    message = queue_organisation_message(engine, MessageKind.ORGANISATION_REMINDER)
    unconfigured = EmailChannel(engine, SmtpSettings(), PUBLIC_URL)
    with pytest.raises(NotConfigured):
        unconfigured.send(message)

    for address, failure in (
        ("refuse-550@walks.test", PermanentFailure),
        ("defer-451@walks.test", TemporaryFailure),
        (None, PermanentFailure),  # no address in the directory at all
        ("hello@walks.test", None),
    ):
        with Session(engine) as session:
            organisation = session.get(Organization, "org-walks")
            assert organisation is not None
            organisation.email = address
            session.add(organisation)
            session.commit()
        if failure is not None:
            with pytest.raises(failure):
                channel(engine, inbox).send(message)

    nobody_listening = SmtpSettings(host="127.0.0.1", port=1, security="none", timeout=2)
    with pytest.raises(TemporaryFailure):
        EmailChannel(engine, nobody_listening, PUBLIC_URL).send(message)
    assert inbox.mails == []


def test_a_gp_message_has_no_email(engine: Engine, inbox: Inbox) -> None:
    directory(engine)
    message = queue_organisation_message(engine, MessageKind.ORGANISATION_REFERRAL)
    message.kind = MessageKind.GP_OUTCOME
    with pytest.raises(PermanentFailure):
        channel(engine, inbox).send(message)
    assert inbox.mails == []
