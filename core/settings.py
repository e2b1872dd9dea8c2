"""Configuration, read from the environment with the prefix ``SOCIALRX_``."""

import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'core.db'}"

    @property
    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
