"""Configuration, read from the environment with the prefix ``SOCIALRX_``."""

import secrets
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, FilePath, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.payload_encryption import EncryptionCodec, decode_keys
from domain.enums import MessageKind
from domain.measures import MeasureThresholds
from domain.policy import ReferralPolicy
from domain.unit_costs import UNIT_COSTS


# --- Return on investment (issue 14): unit costs, the programme's cost, the bootstrap ---
class ReturnOnInvestmentSettings(BaseModel):
    """What the return-on-investment report costs service use at, and what it compares the
    saving with. Defaults and their sources: ``domain/unit_costs.py``."""

    unit_costs: dict[str, Decimal | None] = Field(
        default_factory=lambda: dict[str, Decimal | None](
            (item, cost.pounds) for item, cost in UNIT_COSTS.items()
        ),
        description="Service-use item -> pounds per contact; null leaves the item out of the "
        "cost figures (not costed).",
    )
    service_use_period: timedelta = Field(
        default=timedelta(days=91),
        gt=timedelta(0),
        description="The period the service-use questions ask about; changes are annualised "
        "from it (365 days / this).",
    )
    programme_cost_per_year: Decimal | None = Field(
        default=None,
        ge=0,
        description="The whole programme's cost for a year (link workers, overheads); "
        "pro-rated to a report's period. Unset: give programme_cost on the report.",
    )
    bootstrap_resamples: int = Field(default=2000, ge=100, le=100_000)
    bootstrap_seed: int = Field(default=14, description="Makes the interval reproducible.")

    @field_validator("unit_costs")
    @classmethod
    def _known_items(cls, costs: dict[str, Decimal | None]) -> dict[str, Decimal | None]:
        unknown = sorted(set(costs) - set(UNIT_COSTS))
        if unknown:
            raise ValueError(f"unknown service-use item(s) {', '.join(unknown)}; known: "
                             f"{', '.join(UNIT_COSTS)}")  # fmt: skip
        if any(pounds is not None and pounds < 0 for pounds in costs.values()):
            raise ValueError("a unit cost cannot be negative")
        return costs

    def unit_cost(self, item: str) -> Decimal | None:
        """The service's own cost for the item, else the default (None: set to not costed)."""
        return self.unit_costs.get(item, UNIT_COSTS[item].pounds)


class ReportSettings(BaseModel):
    small_numbers: int = Field(
        default=5,
        ge=1,
        description="Counts below this are suppressed in every report that leaves the "
        "service (CSV, HTML, and JSON unless internal data is asked for).",
    )
    roi: ReturnOnInvestmentSettings = Field(default_factory=ReturnOnInvestmentSettings)
    snapshot_max_age: timedelta = Field(
        default=timedelta(minutes=10),
        ge=timedelta(0),
        description="The printable page serves its stored figures while no new step was "
        "applied and they are younger than this (it also bounds how late a step whose "
        "transaction committed out of order shows); 0 computes every page afresh.",
    )
    snapshot_refresh_every: timedelta = Field(
        default=timedelta(minutes=5),
        gt=timedelta(0),
        description="How often the worker refreshes the stored figures of pages asked for "
        "recently whose facts changed or that would outgrow snapshot_max_age (a Temporal "
        "schedule).",
    )
    snapshot_kept_for: timedelta = Field(
        default=timedelta(days=1),
        gt=timedelta(0),
        description="A page asked for within this is kept warm by the refresh; one not asked "
        "for since is forgotten.",
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


# --- Temporal connection and deployment (issue 12, sec-temporal) ----------------------------


class TemporalConnectionSettings(BaseModel):
    """How every process reaches Temporal: TLS or mutual TLS, an API key, deadlines, and the
    keys that encrypt workflow payloads before they leave the process."""

    tls: bool = Field(
        default=False,
        description="Speak TLS to Temporal (implied by server_ca or a client certificate).",
    )
    server_ca: FilePath | None = Field(
        default=None,
        description="PEM CA bundle that signed Temporal's certificate; empty: the system's roots.",
    )
    server_name: str = Field(
        default="", description="Name to expect in Temporal's certificate, if not the host's."
    )
    client_cert: FilePath | None = Field(
        default=None, description="PEM client certificate for mutual TLS."
    )
    client_key: FilePath | None = Field(default=None, description="PEM private key of that cert.")
    api_key: SecretStr = Field(
        default=SecretStr(""), description="API key sent to Temporal (e.g. Temporal Cloud)."
    )
    rpc_timeout: timedelta = Field(
        default=timedelta(seconds=10),
        gt=timedelta(0),
        description="Deadline of each call from the API to Temporal (start, query, describe).",
    )
    step_timeout: timedelta = Field(
        default=timedelta(seconds=15),
        gt=timedelta(0),
        description="How long the API waits for a step (a workflow update) to be taken by a "
        "worker before answering 503 with Retry-After.",
    )
    worker_seen_within: timedelta = Field(
        default=timedelta(minutes=2),
        gt=timedelta(0),
        description="/health/ready counts a worker as polling if Temporal saw it this recently.",
    )
    payload_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Key ID -> base64 AES key (16, 24 or 32 bytes) that encrypt workflow "
        "payloads. The last listed encrypts; every listed key decrypts. Empty: no encryption.",
    )

    @field_validator("payload_keys")
    @classmethod
    def _keys_can_encrypt(cls, keys: dict[str, SecretStr]) -> dict[str, SecretStr]:
        # A bad key stops every process at start-up, naming it, not at its first payload.
        if keys:
            EncryptionCodec(decode_keys({k: v.get_secret_value() for k, v in keys.items()}))
        return keys

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.server_ca is not None or self.client_cert is not None


class CodecServerSettings(BaseModel):
    """``socialrx codec-server``: decrypts payloads for the Temporal UI and CLI."""

    host: str = Field(default="127.0.0.1", description="Address the codec server listens on.")
    port: int = Field(default=8081, description="Its port.")
    token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token a caller must send; empty: the codec server refuses to start.",
    )
    allowed_origin: str = Field(
        default="http://127.0.0.1:8080",
        description="The Temporal UI's origin, allowed by CORS to call the codec server.",
    )


# --- logs, audit trail and recovery (issue 12: sec-data) ---------------------------------
class IdempotencySettings(BaseModel):
    claim_lease: timedelta = Field(
        default=timedelta(seconds=15),
        gt=timedelta(0),
        description="How long a claimed Idempotency-Key stays claimed without news from its "
        "request, which renews the claim while it runs: a retry with the same key takes over "
        "the claim of a request that died once this has passed.",
    )
    keep_for: timedelta = Field(
        default=timedelta(hours=24),
        gt=timedelta(0),
        description="How long an Idempotency-Key and its answer are kept: after this the "
        "same key counts as new, and the record is pruned.",
    )


class ReconcilerSettings(BaseModel):
    interval: timedelta = Field(
        default=timedelta(minutes=10),
        gt=timedelta(0),
        description="How often the worker looks for referrals left without a running "
        "workflow (a Temporal schedule).",
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


# --- sign-in and accounts (issue 12): throttling, password hashing ----------------------
class SignInSettings(BaseModel):
    """How failed sign-ins are slowed down, and how many passwords are hashed at once."""

    user_failures_before_lock: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins for one user name after which it is locked for a while.",
    )
    address_failures_before_lock: int = Field(
        default=30,
        ge=1,
        description="Failed sign-ins from one client address after which it is locked (higher "
        "than for a user name: many people may share one address behind a network's NAT).",
    )
    lock: timedelta = Field(
        default=timedelta(minutes=1),
        gt=timedelta(0),
        description="The first lock; it doubles with each further failure, up to lock_max.",
    )
    lock_max: timedelta = Field(
        default=timedelta(hours=1), gt=timedelta(0), description="The longest lock."
    )
    forget_failures_after: timedelta = Field(
        default=timedelta(minutes=15),
        gt=timedelta(0),
        description="Failures are forgotten (and their row pruned) this long after the last "
        "one, once no lock is running.",
    )
    hashing_concurrency: int = Field(
        default=2,
        ge=1,
        description="Passwords checked at once per API process: each argon2 check takes a "
        "core and tens of MiB, so a flood of sign-ins must queue rather than eat them all.",
    )
    hashing_wait: timedelta = Field(
        default=timedelta(seconds=5),
        gt=timedelta(0),
        description="How long a sign-in waits for a turn to check its password before it "
        "answers 503 with Retry-After.",
    )


# --- An operator's signals (issue 13, signals): metrics, traces, log format -----------------
class MetricsSettings(BaseModel):
    """Prometheus metrics: the API's at /metrics, the worker's Temporal SDK metrics on a port."""

    token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token Prometheus sends to the API's /metrics. Empty: /metrics is "
        "open in dev and test, and answers 404 in production.",
    )
    worker_address: str = Field(
        default="",
        description="host:port where `socialrx worker` serves the Temporal SDK's metrics, "
        "e.g. 0.0.0.0:9464; empty: not served.",
    )


class TracingSettings(BaseModel):
    """OpenTelemetry traces, exported by OTLP over HTTP; off unless enabled."""

    enabled: bool = Field(default=False, description="Record and export traces.")
    otlp_endpoint: str = Field(
        default="http://127.0.0.1:4318/v1/traces",
        description="The OTLP/HTTP collector's traces URL.",
    )
    service_name: str = Field(
        default="socialrx", description="service.name of every span; the process adds -api/-worker."
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOCIALRX_",
        env_nested_delimiter="__",
        extra="ignore",
        # A refused value is never echoed into a log: it may be a password or a key.
        hide_input_in_errors=True,
    )

    env: Literal["dev", "test", "production"] = Field(
        default="dev",
        description="Where this runs (SOCIALRX_ENV): production refuses demo accounts and "
        "serves no API docs.",
    )
    var_dir: Path = Field(default=Path("var"), description="Where local state lives.")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means a SQLite file under var_dir."
    )
    # --- logs, audit trail and recovery (issue 12: sec-data) ---
    migration_database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the schema's owner, for migrations; empty means "
        "database_url. On PostgreSQL, when its user differs from database_url's, migrations "
        "also grant database_url's user what the app needs, and on access_log only INSERT "
        "and SELECT.",
    )
    idempotency: IdempotencySettings = Field(
        default_factory=IdempotencySettings,
        description="Idempotency-Key claims and records, e.g. "
        "SOCIALRX_IDEMPOTENCY__CLAIM_LEASE=PT15S, SOCIALRX_IDEMPOTENCY__KEEP_FOR=P1D.",
    )
    reconciler: ReconcilerSettings = Field(
        default_factory=ReconcilerSettings,
        description="The sweep for referrals without a running workflow, e.g. "
        "SOCIALRX_RECONCILER__INTERVAL=PT10M.",
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
    # --- HTTP hardening (api/http_guard.py) ---
    max_body_size: int = Field(
        default=256 * 1024,
        gt=0,
        description="Largest request body in bytes; a larger one gets 413 before sign-in.",
    )
    max_fhir_body_size: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Largest request body in bytes under /fhir (a transaction Bundle).",
    )
    hsts_max_age: int = Field(
        default=365 * 24 * 3600,
        ge=0,
        description="Seconds browsers keep to HTTPS for this host (Strict-Transport-Security).",
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

    sign_in: SignInSettings = Field(
        default_factory=SignInSettings,
        description="Sign-in throttling and password hashing, e.g. "
        "SOCIALRX_SIGN_IN__USER_FAILURES_BEFORE_LOCK=5, SOCIALRX_SIGN_IN__HASHING_CONCURRENCY=2.",
    )
    # --- Temporal connection and deployment (issue 12, sec-temporal) ---
    temporal: TemporalConnectionSettings = Field(
        default_factory=TemporalConnectionSettings,
        description="TLS, API key, deadlines and payload encryption of the Temporal "
        "connection, e.g. SOCIALRX_TEMPORAL__API_KEY.",
    )
    codec_server: CodecServerSettings = Field(
        default_factory=CodecServerSettings,
        description="`socialrx codec-server`, e.g. SOCIALRX_CODEC_SERVER__TOKEN.",
    )

    # --- An operator's signals (issue 13, signals) ---
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="json: one JSON object per line; text: readable; auto: json in production.",
    )
    metrics: MetricsSettings = Field(
        default_factory=MetricsSettings,
        description="e.g. SOCIALRX_METRICS__TOKEN, SOCIALRX_METRICS__WORKER_ADDRESS=0.0.0.0:9464.",
    )
    tracing: TracingSettings = Field(
        default_factory=TracingSettings,
        description="e.g. SOCIALRX_TRACING__ENABLED=true, SOCIALRX_TRACING__OTLP_ENDPOINT.",
    )

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" or (self.log_format == "auto" and self.env == "production")

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
