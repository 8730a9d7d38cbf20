"""Triage: response-time columns, claim, destination, idempotency key, status history.

Revision ID: referrals_0002
Revises: referrals_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "referrals_0002"
down_revision: str | None = "referrals_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referral") as batch:
        # Rows from before triage existed are due when received (they are all "received").
        batch.add_column(sa.Column("triage_due_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("triaged_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("status_changed_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("destination", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("idempotency_key", sa.String(200), nullable=True))
        batch.add_column(sa.Column("received_event_id", sa.Uuid(), nullable=True))
    op.execute("UPDATE referral SET triage_due_at = received_at, status_changed_at = received_at")
    with op.batch_alter_table("referral") as batch:
        batch.alter_column("triage_due_at", existing_type=UtcDateTime(), nullable=False)
        batch.alter_column("status_changed_at", existing_type=UtcDateTime(), nullable=False)
        batch.create_unique_constraint("uq_referral_idempotency_key", ["idempotency_key"])
    op.create_index("ix_referral_triage_due_at", "referral", ["triage_due_at"])
    op.create_index("ix_referral_borough_status", "referral", ["borough", "status"])
    op.create_table(
        "referral_transition",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_status", sa.String(30), nullable=True),
        sa.Column("to_status", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_org", sa.String(20), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("destination", sa.JSON(), nullable=True),
        sa.Column("health_signoff", sa.String(200), nullable=True),
        sa.Column("social_care_signoff", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name="fk_referral_transition_referral_id_referral"
        ),
        sa.PrimaryKeyConstraint("referral_id", "version", name="pk_referral_transition"),
    )


def downgrade() -> None:
    op.drop_table("referral_transition")
    op.drop_index("ix_referral_borough_status", "referral")
    op.drop_index("ix_referral_triage_due_at", "referral")
    with op.batch_alter_table("referral") as batch:
        batch.drop_constraint("uq_referral_idempotency_key", type_="unique")
        for column in (
            "idempotency_key",
            "received_event_id",
            "destination",
            "claimed_by",
            "status_changed_at",
            "triaged_at",
            "triage_due_at",
        ):
            batch.drop_column(column)
