"""Where triage sent each referral, for the timeline's relationship rule.

Revision ID: mdt_0005
Revises: mdt_0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mdt_0005"
down_revision: str | None = "mdt_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("caseload_referral") as batch:
        batch.add_column(sa.Column("destination_id", sa.String(100), nullable=True))
        batch.add_column(sa.Column("destination_sequence", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("caseload_referral") as batch:
        batch.drop_column("destination_sequence")
        batch.drop_column("destination_id")
