"""Person merges: the ids the front door merged into another person's.

Revision ID: mdt_0008
Revises: mdt_0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "mdt_0008"
down_revision: str | None = "mdt_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_alias",
        sa.Column("merged_person_id", sa.Uuid(), primary_key=True),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("merged_at", UtcDateTime(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
    )
    op.create_index("ix_person_alias_person_id", "person_alias", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_person_alias_person_id", "person_alias")
    op.drop_table("person_alias")
