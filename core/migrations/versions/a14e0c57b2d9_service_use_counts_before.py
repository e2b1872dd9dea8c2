"""Service use's counts at baseline, item by item, in outcome_change.

The report said only how many contacts there were in all; to say that GP consultations fell
from a to b it needs each item's count before (after is before minus the improvement).
Existing rows are filled from their baseline answers.

Revision ID: a14e0c57b2d9
Revises: f1a2b3c4d5e6
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "a14e0c57b2d9"
down_revision: str | None = "f1a2b3c4d5e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ITEMS_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("outcome_change") as batch:
        batch.add_column(sa.Column("item_before", ITEMS_JSON, nullable=False, server_default="{}"))
    change = sa.table(
        "outcome_change",
        sa.column("referral_id", sa.Uuid()),
        sa.column("instrument", sa.String()),
        sa.column("has_baseline", sa.Boolean()),
        sa.column("item_before", ITEMS_JSON),
    )
    record = sa.table(
        "outcome_record",
        sa.column("referral_id", sa.Uuid()),
        sa.column("checkpoint", sa.String()),
        sa.column("instrument", sa.String()),
        sa.column("answers", sa.JSON()),
    )
    bind = op.get_bind()
    baselines = bind.execute(
        sa.select(record.c.referral_id, record.c.answers)
        .where(record.c.checkpoint == "baseline")
        .where(record.c.instrument == "service_use")
    ).all()
    for referral_id, answers in baselines:
        counts: Any = json.loads(answers) if isinstance(answers, str) else answers
        bind.execute(
            change.update()
            .where(change.c.referral_id == referral_id)
            .where(change.c.instrument == "service_use")
            .where(change.c.has_baseline.is_(True))
            .values(item_before=counts)
        )


def downgrade() -> None:
    with op.batch_alter_table("outcome_change") as batch:
        batch.drop_column("item_before")
