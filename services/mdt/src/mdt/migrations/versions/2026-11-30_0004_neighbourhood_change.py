"""A change counter per neighbourhood for the caseload's live stream.

Revision ID: mdt_0004
Revises: mdt_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "mdt_0004"
down_revision: str | None = "mdt_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "neighbourhood_change",
        sa.Column("neighbourhood", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("neighbourhood", name="pk_neighbourhood_change"),
    )


def downgrade() -> None:
    op.drop_table("neighbourhood_change")
