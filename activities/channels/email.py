"""Email over SMTP to organisations and link workers.

An email says only what happened, the service, the respond-by date and a link to the page
where the rest is shown after signing in, and, in an email that asks an organisation to
answer, a signed action link that answers that one service referral without signing in
(``domain.action_links``; the row is written here, once per outbox message): never the
person's name, NHS number, contact details or the reason for the referral, which the
message's payload may hold. So the text is built from the message kind, the directory's
service name, the respond-by date and ids alone; the payload's other keys are never read here.

SMTP has no idempotency key. The Message-ID is derived from the message's ``dedupe_key``, so a
message sent twice after a crash arrives twice with one Message-ID, which mail clients and
many servers treat as one message.
"""

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session

from activities.channels import NotConfigured, PermanentFailure, TemporaryFailure
from catalogue.tables import Organization, Service
from core.settings import ActionLinkSettings, SmtpSettings
from domain.accounts import ActionLink
from domain.action_links import link_id_for, token_for
from domain.enums import MessageKind, RecipientKind
from domain.tables import LinkWorker, OutboxMessage


@dataclass(frozen=True)
class Notice:
    subject: str
    lines: tuple[str, ...]


def _organisation_notice(kind: MessageKind, service: str, respond_by: str) -> Notice | None:
    match kind:
        case MessageKind.ORGANISATION_REFERRAL:
            return Notice(
                f"New referral for {service}",
                (
                    f"A new referral for {service} has arrived.",
                    f"Please accept or decline it by {respond_by}.",
                ),
            )
        case MessageKind.ORGANISATION_REMINDER:
            return Notice(
                f"Reminder: a referral for {service} is waiting for your answer",
                (
                    f"A referral for {service} is still waiting for your answer.",
                    f"Please accept or decline it by {respond_by}.",
                ),
            )
        case MessageKind.ORGANISATION_AUTO_DECLINED:
            return Notice(
                f"A referral for {service} has closed without an answer",
                (
                    f"No answer to a referral for {service} arrived by {respond_by}, so it has "
                    "been declined on your behalf and the link worker told.",
                ),
            )
        case MessageKind.ORGANISATION_WITHDRAWN:
            return Notice(
                f"A referral for {service} has been withdrawn",
                (
                    f"A referral for {service} has been withdrawn. "
                    "You do not need to do anything more for it.",
                ),
            )
    return None


def _link_worker_notice(kind: MessageKind, service: str) -> Notice | None:
    match kind:
        case MessageKind.LINK_WORKER_ASSIGNED:
            return Notice(
                "A new referral is assigned to you",
                ("A new referral is assigned to you. Please make first contact.",),
            )
        case MessageKind.LINK_WORKER_ESCALATION:
            return Notice(
                "A first contact is overdue",
                ("A referral in your team is past its first-contact deadline.",),
            )
        case MessageKind.LINK_WORKER_ORGANISATION_DECLINED:
            return Notice(
                f"A referral for {service} was declined",
                (f"The organisation declined a referral for {service}. Please choose again.",),
            )
        case MessageKind.LINK_WORKER_CHECKPOINT_OPEN:
            return Notice(
                "A follow-up is open",
                ("A follow-up checkpoint is open for one of your referrals.",),
            )
    return None


# The emails that ask an organisation to answer: they carry an action link.
ANSWER_WANTED = frozenset({MessageKind.ORGANISATION_REFERRAL, MessageKind.ORGANISATION_REMINDER})


def _human_date(iso: str | None) -> str:
    if not iso:
        return "the date shown on the page"
    moment = datetime.fromisoformat(iso)
    return f"{moment.day} {moment:%B %Y}"


def message_id_for(dedupe_key: str, from_address: str) -> str:
    """One Message-ID per outbox message, whatever the attempt; the key's ids are hashed."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]
    domain = from_address.rpartition("@")[2] or "socialrx.invalid"
    return f"<{digest}@{domain}>"


class EmailChannel:
    name = "email"

    def __init__(
        self,
        engine: Engine,
        settings: SmtpSettings,
        public_url: str,
        action_links: ActionLinkSettings | None = None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._public_url = public_url.rstrip("/")
        self._action_links = action_links or ActionLinkSettings()

    def send(self, message: OutboxMessage) -> None:
        if not self._settings.host:
            raise NotConfigured("SMTP host is not set (SOCIALRX_SMTP__HOST)")
        self._deliver(self.compose(message))

    def compose(self, message: OutboxMessage) -> EmailMessage:
        """The email for one outbox message, from its kind, ids and the directory only."""
        service_id = message.payload.get("service_id")
        address, service = self._address_and_service(message, service_id)
        action_link: tuple[str, str] | None = None
        if message.recipient_kind == RecipientKind.ORGANISATION:
            notice = _organisation_notice(
                message.kind, service, _human_date(message.payload.get("respond_by"))
            )
            service_referral_id = message.payload.get("service_referral_id")
            link = f"{self._public_url}/organisation/service-referrals/{service_referral_id}"
            if message.kind in ANSWER_WANTED and isinstance(service_referral_id, str):
                action_link = self._action_link(message, UUID(service_referral_id))
        else:
            notice = _link_worker_notice(message.kind, service)
            link = f"{self._public_url}/referrals/{message.referral_id}"
        if notice is None:
            raise PermanentFailure(
                f"no email for {message.kind} to {message.recipient_kind} recipients"
            )
        email = EmailMessage()
        email["From"] = self._settings.from_address
        email["To"] = address
        email["Subject"] = notice.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = message_id_for(message.dedupe_key, self._settings.from_address)
        email.set_content(
            "\n\n".join(
                [
                    *notice.lines,
                    *(
                        [
                            "Answer without signing in, with this link for this referral "
                            f"only (it works until {action_link[1]}): {action_link[0]}"
                        ]
                        if action_link
                        else []
                    ),
                    f"See the details after signing in: {link}",
                    "This email holds no personal details on purpose; please do not reply "
                    "with any.",
                ]
            )
            + "\n"
        )
        return email

    def _action_link(self, message: OutboxMessage, service_referral_id: UUID) -> tuple[str, str]:
        """The signed link of this message (issued on its first attempt) and until when it
        works."""
        link_id = link_id_for(message.dedupe_key)
        with Session(self._engine) as session:
            link = session.get(ActionLink, link_id)
            if link is None:
                now = datetime.now(UTC)
                link = ActionLink(
                    id=link_id,
                    service_referral_id=service_referral_id,
                    organisation_id=message.recipient_id,
                    issued_at=now,
                    expires_at=now + self._action_links.lifetime,
                )
                session.add(link)
                session.commit()
            expires = link.expires_at
        url = f"{self._public_url}/act/{token_for(self._secret, link_id)}"
        return url, f"{expires.day} {expires:%B %Y}"

    @property
    def _secret(self) -> str:
        return self._action_links.secret.get_secret_value()

    def _address_and_service(self, message: OutboxMessage, service_id: object) -> tuple[str, str]:
        with Session(self._engine) as session:
            service = session.get(Service, service_id) if isinstance(service_id, str) else None
            if message.recipient_kind == RecipientKind.ORGANISATION:
                organisation = session.get(Organization, message.recipient_id)
                address = (service.email if service else None) or (
                    organisation.email if organisation else None
                )
            elif message.recipient_kind == RecipientKind.LINK_WORKER:
                link_worker = session.get(LinkWorker, message.recipient_id)
                address = link_worker.email if link_worker else None
            else:
                raise PermanentFailure(f"email does not go to {message.recipient_kind} recipients")
        if not address:
            # An admin adds the address in the directory, then retries the dead message.
            raise PermanentFailure(
                f"{message.recipient_kind} {message.recipient_id} has no email address"
            )
        return address, service.name if service else "a service"

    def _deliver(self, email: EmailMessage) -> None:
        settings = self._settings
        try:
            smtp: smtplib.SMTP
            if settings.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    timeout=settings.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            with smtp:
                if settings.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if settings.username:
                    smtp.login(settings.username, settings.password.get_secret_value())
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if all(code >= 500 for code in codes):
                raise PermanentFailure(f"SMTP refused the recipient ({codes[0]})") from None
            raise TemporaryFailure(f"SMTP deferred the recipient ({codes[0]})") from None
        except smtplib.SMTPAuthenticationError as error:
            # The settings are wrong, not the message: retried until an admin fixes them.
            raise TemporaryFailure(f"SMTP login refused ({error.smtp_code})") from None
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500:
                raise PermanentFailure(f"SMTP rejected the message ({error.smtp_code})") from None
            raise TemporaryFailure(f"SMTP deferred the message ({error.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryFailure(f"SMTP unavailable ({type(error).__name__})") from None
