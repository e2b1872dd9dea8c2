"""Outbox relay: status, lease, backoff, last error and pruning; link workers get an email.

Revision ID: a7d3c91e4b20
Revises: c4e8a1d2b7f6
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7d3c91e4b20"
down_revision: str | None = "c4e8a1d2b7f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=32), nullable=False, server_default="pending")
        )
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("payload_pruned_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_outbox_message_due", ["status", "next_attempt_at"])
    # Messages sent before the relay existed are done.
    op.execute("UPDATE outbox_message SET status = 'sent' WHERE sent_at IS NOT NULL")
    with op.batch_alter_table("link_worker") as batch:
        batch.add_column(sa.Column("email", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("link_worker") as batch:
        batch.drop_column("email")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_message_due")
        for column in (
            "payload_pruned_at",
            "last_error",
            "claimed_by",
            "claimed_until",
            "next_attempt_at",
            "status",
        ):
            batch.drop_column(column)
