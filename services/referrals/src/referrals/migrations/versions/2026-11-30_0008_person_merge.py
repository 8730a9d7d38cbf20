"""Person merges: the ids the front door minted, merged into NHS-number ids by a trace.

Revision ID: referrals_0008
Revises: referrals_0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "referrals_0008"
down_revision: str | None = "referrals_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_merge",
        sa.Column("merged_person_id", sa.Uuid(), primary_key=True),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("nhs_number", sa.String(10), nullable=False),
        sa.Column("referral_ids", sa.JSON(), nullable=False),
        sa.Column("into_existing_record", sa.Boolean(), nullable=False),
        sa.Column("merged_by", sa.String(200), nullable=False),
        sa.Column("merged_at", UtcDateTime(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
    )
    op.create_index("ix_person_merge_person_id", "person_merge", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_person_merge_person_id", "person_merge")
    op.drop_table("person_merge")
