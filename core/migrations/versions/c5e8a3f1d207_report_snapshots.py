"""Report snapshots: the printable page's suppressed reports per set of inputs, and an index
on applied_step.applied_at, whose max() tells a snapshot whether new facts arrived.

Revision ID: c5e8a3f1d207
Revises: a9c4e2d7b615
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5e8a3f1d207"
down_revision: str | None = "a9c4e2d7b615"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_snapshot",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("reports", sa.JSON(), nullable=False),
        sa.Column("facts_version", sa.DateTime(timezone=True), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_report_snapshot_asked_at", "report_snapshot", ["asked_at"])
    op.create_index("ix_applied_step_applied_at", "applied_step", ["applied_at"])


def downgrade() -> None:
    op.drop_index("ix_applied_step_applied_at", table_name="applied_step")
    op.drop_index("ix_report_snapshot_asked_at", table_name="report_snapshot")
    op.drop_table("report_snapshot")
