"""Notes carry their step: written before the step, shown once it is applied.

Revision ID: 5b7c2e9a1f30
Revises: 9d41314fec39
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b7c2e9a1f30"
down_revision: str | None = "9d41314fec39"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referral_note") as batch:
        batch.add_column(sa.Column("step_key", sa.String(length=80), nullable=True))
    # Notes written before this change were written after their step was accepted.
    op.execute("UPDATE referral_note SET step_key = 'before-step-keys'")


def downgrade() -> None:
    with op.batch_alter_table("referral_note") as batch:
        batch.drop_column("step_key")
