"""report wait buckets: extended statistics so the planner knows how few there are

Revision ID: 9d41314fec39
Revises: d6d31e1d5a93
Create Date: 2026-12-04 04:30:00.000000

The waits report counts values per hundredth of a day (``reports.sql.percentiles``).
Without statistics on that expression PostgreSQL guesses one group per row, so it sorts a
million rows (on disk) instead of hashing a few thousand groups in parallel. These give
ANALYZE the expressions to measure; they must stay the very expressions the report groups
by. SQLite has no such statistics and needs none: this is PostgreSQL only.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9d41314fec39"
down_revision: str | None = "d6d31e1d5a93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _bucket(later: str, earlier: str) -> str:
    # floor(days_between(later, earlier) * 100 + 0.5), as reports.sql compiles it.
    return f"(floor((date_part('epoch', {later} - {earlier}) / 86400.0) * 100 + 0.5))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE STATISTICS st_referral_milestone_first_contact_bucket ON "
        f"{_bucket('first_attempt_at', 'referred_at')} FROM referral_milestone"
    )
    op.execute(
        "CREATE STATISTICS st_service_referral_response_bucket (ndistinct) ON organisation_id, "
        f"{_bucket('responded_at', 'sent_at')} FROM service_referral"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP STATISTICS IF EXISTS st_service_referral_response_bucket")
    op.execute("DROP STATISTICS IF EXISTS st_referral_milestone_first_contact_bucket")
