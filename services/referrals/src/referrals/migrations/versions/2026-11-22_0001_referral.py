"""The referral table.

Revision ID: referrals_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "referrals_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("nhs_number", sa.String(10), nullable=True),
        sa.Column("given_name", sa.String(200), nullable=False),
        sa.Column("family_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("postcode", sa.String(10), nullable=True),
        sa.Column("gp_practice_code", sa.String(10), nullable=True),
        sa.Column("neighbourhood", sa.String(10), nullable=True),
        sa.Column("borough", sa.String(50), nullable=True),
        sa.Column("imd_quintile", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("reason_codes", sa.JSON(), nullable=False),
        sa.Column("story", sa.Text(), nullable=False),
        sa.Column("referrer_org", sa.String(20), nullable=False),
        sa.Column("referrer_name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_referral"),
    )
    for column in ("person_id", "nhs_number", "neighbourhood", "status", "received_at"):
        op.create_index(f"ix_referral_{column}", "referral", [column])


def downgrade() -> None:
    op.drop_table("referral")
