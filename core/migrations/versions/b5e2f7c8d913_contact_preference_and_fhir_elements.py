"""How the person wants to be contacted and whether they agreed to messages; a FHIR
referral's elements kept as sent; the number a link worker team calls from.

Revision ID: b5e2f7c8d913
Revises: e3b5d7f9a1c2
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5e2f7c8d913"
down_revision: str | None = "e3b5d7f9a1c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Referrals made before intake asked: the link worker phones, and no message is sent
    # to a person who was never asked whether they agree to messages.
    with op.batch_alter_table("consent") as batch:
        batch.add_column(
            sa.Column(
                "preferred_contact", sa.String(length=32), nullable=False, server_default="phone"
            )
        )
        batch.add_column(
            sa.Column("contact_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("referral") as batch:
        batch.add_column(sa.Column("fhir_elements", sa.JSON(), nullable=True))
    with op.batch_alter_table("link_worker_team") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("link_worker_team") as batch:
        batch.drop_column("phone")
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("fhir_elements")
    with op.batch_alter_table("consent") as batch:
        batch.drop_column("contact_consent")
        batch.drop_column("preferred_contact")
