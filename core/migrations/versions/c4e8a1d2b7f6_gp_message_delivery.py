"""GP outcome messages sent over MESH and their ITK3 acknowledgements.

Revision ID: c4e8a1d2b7f6
Revises: 5b7c2e9a1f30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4e8a1d2b7f6"
down_revision: str | None = "5b7c2e9a1f30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gp_message_delivery",
        sa.Column("outbox_message_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("itk_message_id", sa.String(length=36), nullable=False),
        sa.Column("mesh_message_id", sa.String(length=64), nullable=False),
        sa.Column("mailbox", sa.String(length=20), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("infrastructure_ack", sa.String(length=16), nullable=True),
        sa.Column("infrastructure_ack_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("business_ack", sa.String(length=16), nullable=True),
        sa.Column("business_ack_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("problem", sa.String(length=64), nullable=True),
        sa.Column("problem_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["outbox_message_id"], ["outbox_message.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("outbox_message_id"),
        sa.UniqueConstraint("itk_message_id"),
    )
    op.create_index("ix_gp_message_delivery_referral_id", "gp_message_delivery", ["referral_id"])
    op.create_index("ix_gp_message_delivery_sent_at", "gp_message_delivery", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_gp_message_delivery_sent_at", table_name="gp_message_delivery")
    op.drop_index("ix_gp_message_delivery_referral_id", table_name="gp_message_delivery")
    op.drop_table("gp_message_delivery")
