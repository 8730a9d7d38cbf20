"""Proposals: changes a VCSE organisation asks for on its own listing, for a curator to decide.

Revision ID: directory_0004
Revises: directory_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "directory_0004"
down_revision: str | None = "directory_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_proposal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("proposed_by_org", sa.String(50), nullable=True),
        sa.Column("proposed_at", UtcDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_proposal"),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name="fk_service_proposal_service_id_service",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_service_proposal_service_id", "service_proposal", ["service_id"])
    op.create_index("ix_service_proposal_status", "service_proposal", ["status"])


def downgrade() -> None:
    op.drop_table("service_proposal")
