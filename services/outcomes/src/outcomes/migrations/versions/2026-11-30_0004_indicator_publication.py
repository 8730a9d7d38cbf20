"""What was last announced per indicator and scope (indicator-updated events).

Revision ID: outcomes_0004
Revises: outcomes_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "outcomes_0004"
down_revision: str | None = "outcomes_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator_publication",
        sa.Column("indicator_id", sa.String(80), nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("indicator_id", "scope", name="pk_indicator_publication"),
    )


def downgrade() -> None:
    op.drop_table("indicator_publication")
