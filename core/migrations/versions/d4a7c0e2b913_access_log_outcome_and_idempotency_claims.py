"""The access log records each permission decision and cannot be changed on SQLite either;
idempotency claims carry a lease and an id, and age out.

- ``access_log.outcome``: allowed, not_found (404) or forbidden (403). Denied attempts on
  patient data are logged too, after the decision and with it. Rows logged before this
  were all allowed.
- On SQLite, triggers refuse UPDATE and DELETE of ``access_log``, as the PostgreSQL trigger
  of 72a9e5200e7b does there. (On PostgreSQL the app's own role is also granted only INSERT
  and SELECT on it: see core.db.grant_app_role, run after every migration.)
- ``idempotency_record.claim_id``: fixed when a key is claimed, it is the referral id the
  request creates, so a retry after a crash finishes that referral instead of making another.
- ``idempotency_record.claimed_until``: the claim's lease, renewed while the request runs; a
  claim whose request died lapses, and a retry with the same key takes it over.
- An index on ``idempotency_record.created_at``, for pruning old records.

Revision ID: d4a7c0e2b913
Revises: a12c0ad5e7b3
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.tables

revision: str = "d4a7c0e2b913"
down_revision: str | None = "a12c0ad5e7b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_APPEND_ONLY = {
    "access_log_no_update": "BEFORE UPDATE",
    "access_log_no_delete": "BEFORE DELETE",
}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("access_log") as batch:
        batch.add_column(
            sa.Column("outcome", sa.String(length=16), nullable=False, server_default="allowed")
        )
    with op.batch_alter_table("idempotency_record") as batch:
        batch.add_column(sa.Column("claim_id", sa.Uuid(), nullable=True))
        batch.add_column(
            sa.Column("claimed_until", domain.tables.UtcDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_idempotency_record_created_at", ["created_at"], unique=False)
    if sqlite:
        # After the batch operations: they rebuild the table, which would drop triggers.
        for name, when in SQLITE_APPEND_ONLY.items():
            op.execute(
                f"CREATE TRIGGER {name} {when} ON access_log "
                "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_APPEND_ONLY:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("idempotency_record") as batch:
        batch.drop_index("ix_idempotency_record_created_at")
        batch.drop_column("claimed_until")
        batch.drop_column("claim_id")
    with op.batch_alter_table("access_log") as batch:
        batch.drop_column("outcome")
