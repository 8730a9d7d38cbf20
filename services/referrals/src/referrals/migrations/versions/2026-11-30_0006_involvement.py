"""Who is already involved with a person (their care team), from the care_plans service.

Revision ID: referrals_0006
Revises: referrals_0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "referrals_0006"
down_revision: str | None = "referrals_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "involvement",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("organisation", sa.String(100), nullable=True),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("role", sa.String(100), nullable=True),
        sa.Column("key_worker", sa.Boolean(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "member_id", name="pk_involvement"),
    )


def downgrade() -> None:
    op.drop_table("involvement")
