"""The triage queue at scale: indexes in the queue's order, and a stored "triaged late" flag so
that "breached" is two index lookups instead of a scan.

Revision ID: referrals_0005
Revises: referrals_0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "referrals_0005"
down_revision: str | None = "referrals_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "triaged_at IS NULL AND status IN ('received', 'in_triage')"


def upgrade() -> None:
    with op.batch_alter_table("referral") as batch:
        batch.add_column(
            sa.Column("triaged_late", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE referral SET triaged_late = TRUE "
        "WHERE triaged_at IS NOT NULL AND triaged_at > triage_due_at"
    )
    op.drop_index("ix_referral_borough_status", "referral")
    op.create_index(
        "ix_referral_queue_borough", "referral", ["borough", "status", "triage_due_at", "id"]
    )
    op.create_index(
        "ix_referral_queue_neighbourhood",
        "referral",
        ["neighbourhood", "status", "triage_due_at", "id"],
    )
    op.create_index("ix_referral_queue_status", "referral", ["status", "triage_due_at", "id"])
    op.create_index(
        "ix_referral_waiting",
        "referral",
        ["triage_due_at"],
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )
    op.create_index(
        "ix_referral_triaged_late",
        "referral",
        ["triage_due_at"],
        postgresql_where=sa.text("triaged_late"),
        sqlite_where=sa.text("triaged_late"),
    )


def downgrade() -> None:
    for name in (
        "ix_referral_triaged_late",
        "ix_referral_waiting",
        "ix_referral_queue_status",
        "ix_referral_queue_neighbourhood",
        "ix_referral_queue_borough",
    ):
        op.drop_index(name, "referral")
    op.create_index("ix_referral_borough_status", "referral", ["borough", "status"])
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("triaged_late")
