"""Configuration, read from the environment with the prefix ``SOCIALRX_``."""

import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.enums import MessageKind
from domain.measures import MeasureThresholds
from domain.policy import ReferralPolicy


class ReportSettings(BaseModel):
    small_numbers: int = Field(
        default=5,
        ge=1,
        description="Counts below this are suppressed in every report that leaves the "
        "service (CSV, HTML, and JSON unless internal data is asked for).",
    )


class MeshSettings(BaseModel):
    """NHS MESH, by which the outcome goes back to the GP (GP Connect Send Document).

    With no ``url`` set the GP channel is not configured: its messages stay pending.
    """

    url: str = Field(
        default="",
        description="MESH API base URL, e.g. https://mesh-sync.spineservices.nhs.uk; empty "
        "means MESH is not configured and GP messages stay pending.",
    )
    mailbox: str = Field(default="", description="Our own MESH mailbox ID (sender and inbox).")
    password: SecretStr = Field(default=SecretStr(""), description="Our mailbox's password.")
    shared_key: SecretStr = Field(
        default=SecretStr(""), description="The environment's MESH shared key (auth tokens)."
    )
    client_cert: Path | None = Field(
        default=None, description="PEM client certificate for MESH's mutual TLS."
    )
    client_key: Path | None = Field(default=None, description="PEM private key of that cert.")
    ca_cert: Path | None = Field(
        default=None, description="PEM CA bundle to verify the MESH server; empty: the default."
    )
    verify: bool = Field(
        default=True, description="Verify the MESH server's certificate (off only for a sandbox)."
    )
    ack_timeout: timedelta = Field(
        default=timedelta(days=2),
        description="How long a sent GP message may wait for its ITK3 acknowledgements before "
        "an admin task is raised.",
    )
    practice_mailboxes: dict[str, str] = Field(
        default_factory=dict,
        description="Practice ODS code -> MESH mailbox ID; a practice not listed is reached by "
        "MESH automated routing on the patient's NHS number, date of birth and surname.",
    )

    @property
    def configured(self) -> bool:
        return bool(self.url and self.mailbox)


class OutboxSettings(BaseModel):
    poll_interval: timedelta = Field(
        default=timedelta(seconds=2),
        description="How long the outbox relay waits, when nothing is due, before looking again.",
    )
    batch_size: int = Field(default=50, ge=1, description="Messages one relay claims at a time.")
    lease: timedelta = Field(
        default=timedelta(minutes=5),
        description="How long a relay holds the messages it claimed; a crashed relay's claim "
        "lapses after this and another relay sends them. Keep it above every channel timeout.",
    )
    max_attempts: int = Field(
        default=8, ge=1, description="Failed sends after which a message is dead."
    )
    retry_base: timedelta = Field(
        default=timedelta(seconds=30),
        description="Wait after the first failure; it doubles with each further failure "
        "(with random jitter) up to retry_max.",
    )
    retry_max: timedelta = Field(
        default=timedelta(hours=6), description="The longest wait between two tries."
    )
    not_configured_recheck: timedelta = Field(
        default=timedelta(minutes=5),
        description="How often a message whose channel has no settings is looked at again "
        "(it stays pending; no attempt is counted).",
    )
    prune_after: timedelta = Field(
        default=timedelta(days=30),
        description="How long a sent message keeps its personal payload before it is pruned "
        "(its metadata stays).",
    )
    prune_interval: timedelta = Field(
        default=timedelta(hours=1), description="How often the relay prunes sent messages."
    )


class SmtpSettings(BaseModel):
    host: str = Field(default="", description="SMTP server; empty means email is not configured.")
    port: int = Field(default=587, description="SMTP port (587 STARTTLS, 465 SSL, 25 none).")
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="How the connection is encrypted."
    )
    username: str = Field(default="", description="SMTP user; empty sends without logging in.")
    password: SecretStr = Field(default=SecretStr(""), description="SMTP password.")
    from_address: str = Field(
        default="socialrx@localhost", description="The From address of every email."
    )
    timeout: float = Field(default=10.0, gt=0, description="Seconds before a send gives up.")


class ActionLinkSettings(BaseModel):
    secret: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        description="Signs the action links in organisation emails. Unset, each process makes "
        "its own, so set one value for the relay (which writes the emails) and the web app.",
    )
    lifetime: timedelta = Field(
        default=timedelta(days=14), gt=timedelta(0), description="How long an action link works."
    )


class NotifySettings(BaseModel):
    api_key: SecretStr = Field(
        default=SecretStr(""),
        description="GOV.UK Notify API key (it holds the service ID); empty means Notify is "
        "not configured.",
    )
    base_url: str = Field(
        default="https://api.notifications.service.gov.uk", description="Notify API base URL."
    )
    timeout: float = Field(default=10.0, gt=0, description="Seconds before a request gives up.")
    sms_templates: dict[MessageKind, str] = Field(
        default={},
        description="Notify text-message template ID per message kind, e.g. "
        '{"person_link_worker_will_contact": "<uuid>"}.',
    )
    email_templates: dict[MessageKind, str] = Field(
        default={}, description="Notify email template ID per message kind."
    )


# --- data rights and records management (issue 12) ---------------------------------------
class RecordsSettings(BaseModel):
    retention: timedelta = Field(
        default=timedelta(days=8 * 365 + 2),
        gt=timedelta(0),
        description="How long after a person's last referral closed their identifying details, "
        "notes and message contents are kept before they are redacted. Eight years: the NHS "
        "Records Management Code of Practice's retention for adult health records (see "
        "docs/security.md).",
    )
    check_every: timedelta = Field(
        default=timedelta(days=1),
        gt=timedelta(0),
        description="How often the worker's retention schedule looks for people due.",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOCIALRX_", env_nested_delimiter="__", extra="ignore"
    )

    var_dir: Path = Field(default=Path("var"), description="Where local state lives.")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means a SQLite file under var_dir."
    )
    temporal_address: str = Field(
        default="",
        description="host:port of a running Temporal server; empty lets `socialrx dev` "
        "start its own dev server.",
    )
    temporal_namespace: str = "default"
    task_queue: str = "socialrx-referrals"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    log_level: str = "INFO"
    session_lifetime: timedelta = Field(
        default=timedelta(hours=1),
        description="How long a sign-in token or cookie lasts, e.g. PT1H; then sign in again.",
    )
    session_cookie_secure: bool = Field(
        default=True,
        description="Send the session cookie over HTTPS only (browsers treat localhost as HTTPS).",
    )
    csrf_secret: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        description="Signs the token every web form carries. Unset, each process makes its "
        "own, so set the same value for every process that serves the pages.",
    )
    policy: ReferralPolicy = Field(
        default_factory=ReferralPolicy,
        description="Deadlines, e.g. SOCIALRX_POLICY__ORGANISATION_RESPONSE_DUE=P14D.",
    )

    measures: MeasureThresholds = Field(
        default_factory=MeasureThresholds,
        description="Meaningful-change thresholds, e.g. "
        "SOCIALRX_MEASURES__THRESHOLDS='{\"swemwbs\": 2.0}'.",
    )
    reports: ReportSettings = Field(default_factory=ReportSettings)
    mesh: MeshSettings = Field(
        default_factory=MeshSettings,
        description="MESH for the GP's outcome message, e.g. SOCIALRX_MESH__URL, "
        "SOCIALRX_MESH__MAILBOX; none set: GP messages stay pending.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where people reach this service's web pages; links in emails start here.",
    )
    outbox: OutboxSettings = Field(
        default_factory=OutboxSettings,
        description="The outbox relay: polling, claiming, retries, dead letters, pruning.",
    )
    smtp: SmtpSettings = Field(
        default_factory=SmtpSettings,
        description="Email to organisations and link workers; empty host = not configured.",
    )
    action_links: ActionLinkSettings = Field(
        default_factory=ActionLinkSettings,
        description="Signed links that answer a referral from an email, e.g. "
        "SOCIALRX_ACTION_LINKS__SECRET, SOCIALRX_ACTION_LINKS__LIFETIME=P14D.",
    )
    notify: NotifySettings = Field(
        default_factory=NotifySettings,
        description="GOV.UK Notify for texts and emails to the person; empty key = not configured.",
    )

    records: RecordsSettings = Field(
        default_factory=RecordsSettings,
        description="Retention of personal details, e.g. SOCIALRX_RECORDS__RETENTION=P2922D.",
    )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'core.db'}"

    @property
    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
