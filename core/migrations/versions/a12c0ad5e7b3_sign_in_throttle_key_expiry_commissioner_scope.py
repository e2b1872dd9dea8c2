"""Sign-in and accounts: failed sign-ins shared by every API process, API key expiry and
last use, and the practices of each commissioner's area.

Revision ID: a12c0ad5e7b3
Revises: a14e0c57b2d9
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a12c0ad5e7b3"
down_revision: str | None = "a14e0c57b2d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_sign_in_throttle_last_failure_at", "sign_in_throttle", ["last_failure_at"])
    op.create_table(
        "commissioner_practice",
        sa.Column("commissioner_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("practice_ods", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(["practice_ods"], ["practice.ods_code"]),
        sa.PrimaryKeyConstraint("commissioner_id", "practice_ods"),
    )
    # Plain ADD COLUMN (nullable, no default) works on SQLite without rebuilding the table.
    op.add_column("api_key", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("api_key", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
    op.drop_table("commissioner_practice")
    op.drop_index("ix_sign_in_throttle_last_failure_at", table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
