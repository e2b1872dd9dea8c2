"""Outbox message kinds up to 64 characters: link_worker_organisation_declined is 33.

PostgreSQL refused it in a VARCHAR(32); SQLite does not enforce the length, so only the
PostgreSQL suite showed it.

Revision ID: f1a2b3c4d5e6
Revises: b5e2f7c8d913
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1a2b3c4d5e6"
down_revision: str | None = "b5e2f7c8d913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=32), type_=sa.String(length=64))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=64), type_=sa.String(length=32))
