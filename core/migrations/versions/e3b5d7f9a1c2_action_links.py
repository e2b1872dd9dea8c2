"""Action links: signed links in organisation emails that answer one service referral.

Revision ID: e3b5d7f9a1c2
Revises: a7d3c91e4b20
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e3b5d7f9a1c2"
down_revision: str | None = "a7d3c91e4b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_link",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_referral_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_link") as batch:
        batch.create_index(
            batch.f("ix_action_link_service_referral_id"), ["service_referral_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("action_link") as batch:
        batch.drop_index(batch.f("ix_action_link_service_referral_id"))
    op.drop_table("action_link")
