"""Person rows say when their personal details were redacted (retention or erasure).

Revision ID: a9c4e2d7b615
Revises: d4a7c0e2b913
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c4e2d7b615"
down_revision: str | None = "d4a7c0e2b913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("redacted_at")
