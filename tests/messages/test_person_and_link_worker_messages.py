"""Messages to the person go only as the person agreed, with what GOV.UK Notify needs; messages
to link workers carry no personal data. End to end: the relay delivers a text to the Notify
stand-in only for a person who agreed, and a link worker's email to a real SMTP server."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, select

from activities.channels import Channel
from activities.channels.email import EmailChannel
from activities.channels.notify import NotifyChannel
from activities.outbox import queue_message
from activities.relay import OutboxRelay
from core.settings import NotifySettings, SmtpSettings
from domain.enums import (
    AssigneeKind,
    GpOutcomeSharing,
    MessageKind,
    OrganisationSharing,
    OutboxStatus,
    PreferredContact,
    ProjectionAction,
    RecipientKind,
    ReferralStatus,
    TaskKind,
)
from domain.messages import SYSTEM, MessageSpec, Projection, TaskSpec
from domain.tables import (
    Consent,
    LinkWorker,
    LinkWorkerTeam,
    OutboxMessage,
    Person,
    Referral,
)
from tests.messages.smtp_server import Inbox, smtp_server
from tests.support.notify_standin import NotifyStandIn
from tests.support.outbox import FAST, make_referral

TEAM_PHONE = "0808 157 0192"
LINK_WORKER_ID = "lw-amira"
FIRST_CONTACT_DUE = datetime(2026, 3, 14, 17, 0, tzinfo=UTC)
PERSON: dict[str, Any] = {
    "nhs_number": "9434765919",
    "given_name": "Marigold",
    "family_name": "Featherstonehaugh",
    "birth_date": datetime(1948, 3, 14).date(),
    "postcode": "MB3 7QX",
    "address": "14 Quillfeather Lane, Millbrook",
    "phone": "07700 900461",
    "email": "marigold@example.org",
    "reason": "Widowed last spring, rarely leaves the house, low mood",
}
PERSONAL_VALUES = [str(value) for value in PERSON.values()] + ["Marigold", "900461", "1948"]


def referral_of(
    engine: Engine,
    preferred: PreferredContact = PreferredContact.TEXT,
    agreed: bool = True,
    team_phone: str | None = TEAM_PHONE,
) -> UUID:
    referral_id = make_referral(engine)
    with Session(engine) as session:
        team = session.get(LinkWorkerTeam, "team-millbrook")
        assert team is not None
        team.phone = team_phone
        session.add(team)
        if session.get(LinkWorker, LINK_WORKER_ID) is None:
            session.add(
                LinkWorker(
                    id=LINK_WORKER_ID,
                    name="Amira Khan",
                    team_id="team-millbrook",
                    email="amira@pcn.test",
                )
            )
        referral = session.get(Referral, referral_id)
        assert referral is not None
        referral.link_worker_id = LINK_WORKER_ID
        session.add(referral)
        session.add(Person(referral_id=referral_id, **PERSON))
        session.add(
            Consent(
                referral_id=referral_id,
                share_with_organisations=OrganisationSharing.CONTACT_ONLY,
                outcome_to_gp=GpOutcomeSharing.CODES_ONLY,
                preferred_contact=preferred,
                contact_consent=agreed,
            )
        )
        session.commit()
    return referral_id


def assigned(referral_id: UUID) -> Projection:
    return Projection(
        referral_id=referral_id,
        step_key="002-assigned",
        at=FIRST_CONTACT_DUE - timedelta(days=5),
        actor=SYSTEM,
        action=ProjectionAction.ASSIGNED,
        status=ReferralStatus.ASSIGNED,
        link_worker_id=LINK_WORKER_ID,
        open_tasks=[
            TaskSpec(
                kind=TaskKind.FIRST_CONTACT,
                assignee_kind=AssigneeKind.LINK_WORKER,
                assignee_id=LINK_WORKER_ID,
                due_at=FIRST_CONTACT_DUE,
            )
        ],
    )


TO_PERSON = MessageSpec(
    kind=MessageKind.PERSON_LINK_WORKER_WILL_CONTACT,
    recipient_kind=RecipientKind.PERSON,
    recipient_id="person",
)
TO_LINK_WORKER = MessageSpec(
    kind=MessageKind.LINK_WORKER_ASSIGNED,
    recipient_kind=RecipientKind.LINK_WORKER,
    recipient_id=LINK_WORKER_ID,
)


def queued(engine: Engine, referral_id: UUID, *specs: MessageSpec) -> list[OutboxMessage]:
    with Session(engine, expire_on_commit=False) as session:
        projection = assigned(referral_id)
        for spec in specs:
            queue_message(session, projection, spec)
        session.commit()
        return list(
            session.exec(
                select(OutboxMessage).where(OutboxMessage.referral_id == referral_id)
            ).all()
        )


def test_a_person_who_agreed_to_texts_gets_one_with_the_team_number_and_date(
    engine: Engine,
) -> None:
    referral_id = referral_of(engine, PreferredContact.TEXT)
    (message,) = queued(engine, referral_id, TO_PERSON)
    assert message.payload == {
        "referral_id": str(referral_id),
        "kind": MessageKind.PERSON_LINK_WORKER_WILL_CONTACT.value,
        "contact_consent": True,
        "contact_method": "text",
        "phone_number": PERSON["phone"],
        "personalisation": {"link_worker_phone": TEAM_PHONE, "contact_by": "14 March 2026"},
    }
    assert message.dedupe_key == (
        f"{referral_id}:002-assigned:{MessageKind.PERSON_LINK_WORKER_WILL_CONTACT}:person"
    )


def test_a_person_who_agreed_to_email_gets_an_email_check_in(engine: Engine) -> None:
    referral_id = referral_of(engine, PreferredContact.EMAIL)
    check_in = TO_PERSON.model_copy(update={"kind": MessageKind.PERSON_UPTAKE_CHECK_IN})
    (message,) = queued(engine, referral_id, check_in)
    assert (message.payload["contact_method"], message.payload["email_address"]) == (
        "email",
        PERSON["email"],
    )
    assert "phone_number" not in message.payload


@pytest.mark.parametrize(
    ("preferred", "agreed"),
    [
        (PreferredContact.TEXT, False),
        (PreferredContact.EMAIL, False),
        (PreferredContact.PHONE, True),
        (PreferredContact.LETTER, True),
        (PreferredContact.NONE, True),
    ],
)
def test_no_message_is_queued_unless_the_person_agreed_to_texts_or_emails(
    engine: Engine, preferred: PreferredContact, agreed: bool
) -> None:
    referral_id = referral_of(engine, preferred, agreed)
    # The link worker's message of the same step is queued all the same.
    (message,) = queued(engine, referral_id, TO_PERSON, TO_LINK_WORKER)
    assert message.recipient_kind == RecipientKind.LINK_WORKER


def test_without_the_teams_number_the_text_is_not_sent(engine: Engine) -> None:
    referral_id = referral_of(engine, PreferredContact.TEXT, team_phone=None)
    assert queued(engine, referral_id, TO_PERSON) == []


def test_a_link_workers_message_carries_no_personal_data(engine: Engine) -> None:
    referral_id = referral_of(engine)
    (message,) = queued(engine, referral_id, TO_LINK_WORKER)
    assert message.payload == {
        "referral_id": str(referral_id),
        "kind": MessageKind.LINK_WORKER_ASSIGNED.value,
        "due_at": FIRST_CONTACT_DUE.isoformat(),
        "link": f"/referrals/{referral_id}",
    }
    text = json.dumps(message.payload)
    assert [value for value in PERSONAL_VALUES if value in text] == []


@pytest.fixture
def notify() -> Iterator[NotifyStandIn]:
    standin = NotifyStandIn(service_id=str(uuid.uuid4()), secret=str(uuid.uuid4())).start()
    yield standin
    standin.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as inbox:
        yield inbox


def test_the_relay_texts_only_the_person_who_agreed_and_emails_the_link_worker(
    engine: Engine, notify: NotifyStandIn, inbox: Inbox
) -> None:
    agreed = referral_of(engine, PreferredContact.TEXT, agreed=True)
    not_agreed = referral_of(engine, PreferredContact.TEXT, agreed=False)
    queued(engine, agreed, TO_PERSON, TO_LINK_WORKER)
    queued(engine, not_agreed, TO_PERSON)
    template = "A link worker will call you from ((link_worker_phone)) by ((contact_by))."
    notify_settings = NotifySettings(
        api_key=SecretStr(notify.api_key),
        base_url=notify.base_url,
        sms_templates={
            MessageKind.PERSON_LINK_WORKER_WILL_CONTACT: notify.add_template("sms", template)
        },
    )
    smtp = SmtpSettings(
        host=inbox.host, port=inbox.port, security="none", from_address="referrals@socialrx.test"
    )
    channels: dict[RecipientKind, Channel] = {
        RecipientKind.PERSON: NotifyChannel(notify_settings),
        RecipientKind.LINK_WORKER: EmailChannel(engine, smtp, "https://socialrx.test"),
    }

    OutboxRelay(engine, channels, FAST).drain()

    with Session(engine) as session:
        statuses = session.exec(select(OutboxMessage.recipient_kind, OutboxMessage.status)).all()
    assert sorted(statuses) == [
        (RecipientKind.LINK_WORKER, OutboxStatus.SENT),
        (RecipientKind.PERSON, OutboxStatus.SENT),
    ]
    (text,) = notify.notifications
    assert (text["type"], text["phone_number"]) == ("sms", PERSON["phone"])
    assert text["body"] == f"A link worker will call you from {TEAM_PHONE} by 14 March 2026."

    (mail,) = inbox.mails
    assert mail.rcpt_tos == ["amira@pcn.test"]
    parsed = message_from_bytes(mail.raw, policy=policy.default)
    body = parsed.get_body().get_content()  # type: ignore[union-attr]
    raw = (mail.raw.decode() + str(parsed["Subject"]) + body).lower()
    assert [value for value in PERSONAL_VALUES if value.lower() in raw] == []
    assert f"https://socialrx.test/referrals/{agreed}" in body
