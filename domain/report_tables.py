"""Read-model tables that exist for reports: one row per referral with the moment it reached
each stage of the process, and the outcome change computed at each follow-up checkpoint.

Both are written by the same projection step as the rest of the read model (see
``activities/report_facts.py``), so reports aggregate one narrow table each with GROUP BY and
never read Temporal, the audit trail or personal details.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from domain.enums import ClosureReason
from domain.tables import ENUM, UtcDateTime, moment_column

# JSONB on PostgreSQL so reports can read single items cheaply; plain JSON text elsewhere.
ITEMS_JSON = JSON().with_variant(JSONB(), "postgresql")


class ReferralMilestone(SQLModel, table=True):
    """When one referral reached each funnel stage, and what reports filter it by."""

    __tablename__ = "referral_milestone"
    __table_args__ = (
        Index("ix_referral_milestone_referred_at", "referred_at"),
        Index("ix_referral_milestone_practice", "practice_ods", "referred_at"),
        Index("ix_referral_milestone_team", "team_id", "referred_at"),
    )
    referral_id: UUID = Field(primary_key=True, foreign_key="referral.id")
    practice_ods: str = Field(max_length=16)
    team_id: str = Field(max_length=64)
    link_worker_id: str | None = Field(default=None, max_length=64)
    need_codes: str = Field(
        default="",
        max_length=1000,
        description="Recorded needs as ',code,code,' so a category filter is a plain LIKE.",
    )
    referred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    first_attempt_at: datetime | None = moment_column()
    contacted_at: datetime | None = moment_column()
    assessed_at: datetime | None = moment_column()
    connected_at: datetime | None = moment_column()
    took_up_at: datetime | None = moment_column()
    followed_up_at: datetime | None = moment_column()
    follow_up_due: bool = Field(
        default=False, description="A checkpoint was opened: the person is eligible for follow-up."
    )
    closed_at: datetime | None = moment_column()
    closure_reason: ClosureReason | None = Field(default=None, sa_type=ENUM)
    synthetic: bool = Field(default=False, description="Made by `socialrx seed --synthetic`.")


class OutcomeChange(SQLModel, table=True):
    """One instrument's change from baseline at one checkpoint, signed so positive is better.

    Without a baseline for the instrument there is no change: the row says so
    (``has_baseline`` false, change columns null) so that missing data stays visible.
    """

    __tablename__ = "outcome_change"
    __table_args__ = (Index("ix_outcome_change_latest", "instrument", "latest", "referral_id"),)
    referral_id: UUID = Field(primary_key=True, foreign_key="referral.id")
    checkpoint: str = Field(primary_key=True, max_length=32)
    instrument: str = Field(primary_key=True, max_length=64)
    version: str = Field(default="1", max_length=16)
    has_baseline: bool
    latest: bool = Field(
        default=True, description="The referral's most recent checkpoint: what reports count."
    )
    before_total: float | None = None
    after_total: float | None = None
    total_improvement: float | None = None
    meaningful: bool | None = None
    improved_any: bool | None = Field(
        default=None, description="At least one item (area) moved in the better direction."
    )
    item_improvement: dict[str, int] = Field(
        default_factory=dict, sa_column=Column(ITEMS_JSON, nullable=False)
    )
    item_before: dict[str, int] = Field(
        default_factory=dict,
        sa_column=Column(ITEMS_JSON, nullable=False, server_default="{}"),
        description="Service use only: each item's count at baseline, so reports can say "
        "how many contacts there were before and after (after = before - improvement).",
    )
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ReportSnapshot(SQLModel, table=True):
    """The printable page's reports for one set of inputs (``reports/snapshots.py``), already
    suppressed: computed once, served again while the facts are unchanged and it is young.

    Holds published figures only (small numbers suppressed), never raw counts, and inputs
    made of codes, dates and settings: nothing personal.
    """

    __tablename__ = "report_snapshot"
    key: str = Field(primary_key=True, max_length=64, description="sha256 of ``inputs``.")
    inputs: dict[str, Any] = Field(
        sa_column=Column(JSON, nullable=False),
        description="Filters, the commissioner's area, threshold and ROI inputs: enough to "
        "compute the snapshot again.",
    )
    reports: dict[str, Any] = Field(
        sa_column=Column(JSON, nullable=False), description="The suppressed report models."
    )
    facts_version: datetime | None = Field(
        default=None,
        sa_column=Column(UtcDateTime(), nullable=True),
        description="The newest applied step when the figures were computed (None: none).",
    )
    computed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    asked_at: datetime = Field(
        sa_column=Column(UtcDateTime(), nullable=False, index=True),
        description="When someone last asked for it, to within minutes: what the scheduled "
        "refresh keeps warm.",
    )
