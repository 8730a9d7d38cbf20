"""The first read model: caseload referrals, timeline, freshness.

Revision ID: mdt_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "mdt_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "caseload_referral",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("neighbourhood", sa.String(10), nullable=True),
        sa.Column("given_name", sa.String(200), nullable=False),
        sa.Column("family_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("has_nhs_number", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", name="pk_caseload_referral"),
    )
    op.create_index("ix_caseload_referral_person_id", "caseload_referral", ["person_id"])
    op.create_index("ix_caseload_referral_neighbourhood", "caseload_referral", ["neighbourhood"])
    op.create_table(
        "timeline_entry",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("source_service", sa.String(50), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("organisation", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name="pk_timeline_entry"),
    )
    op.create_index("ix_timeline_entry_person_id", "timeline_entry", ["person_id"])
    op.create_table(
        "source_freshness",
        sa.Column("source_service", sa.String(50), nullable=False),
        sa.Column("last_event_id", sa.Uuid(), nullable=False),
        sa.Column("last_event_time", UtcDateTime(), nullable=False),
        sa.Column("applied_at", UtcDateTime(), nullable=False),
        sa.Column("events_applied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source_service", name="pk_source_freshness"),
    )


def downgrade() -> None:
    op.drop_table("source_freshness")
    op.drop_table("timeline_entry")
    op.drop_table("caseload_referral")
