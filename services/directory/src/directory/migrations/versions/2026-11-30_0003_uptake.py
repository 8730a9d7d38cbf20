"""Uptake: referrals the front door routed to a service, and those the service started.

Revision ID: directory_0003
Revises: directory_0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "directory_0003"
down_revision: str | None = "directory_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_uptake") as batch:
        batch.drop_column("signposted")
        batch.add_column(sa.Column("accepted", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "referral_routing",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("routed_at", UtcDateTime(), nullable=False),
        sa.Column("accepted_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("referral_id", name="pk_referral_routing"),
    )
    op.create_index("ix_referral_routing_service_id", "referral_routing", ["service_id"])


def downgrade() -> None:
    op.drop_table("referral_routing")
    with op.batch_alter_table("service_uptake") as batch:
        batch.drop_column("accepted")
        batch.add_column(sa.Column("signposted", sa.Integer(), nullable=False, server_default="0"))
