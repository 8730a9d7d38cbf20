"""Referral volume, the first indicator input.

Revision ID: outcomes_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outcomes_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_volume",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("neighbourhood", sa.String(10), nullable=False),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("referrals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "neighbourhood", "source", name="pk_referral_volume"),
    )


def downgrade() -> None:
    op.drop_table("referral_volume")
