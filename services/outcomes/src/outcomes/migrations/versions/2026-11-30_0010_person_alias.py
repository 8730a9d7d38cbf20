"""Person merges: each person id merged into another (the front door's ``person.merged``),
so a later event or request for the old id reaches the person it is now.

Revision ID: outcomes_0010
Revises: outcomes_0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outcomes_0010"
down_revision: str | None = "outcomes_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_alias",
        sa.Column("merged_person_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("merged_person_id", name="pk_person_alias"),
    )
    op.create_index("ix_person_alias_person_id", "person_alias", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_person_alias_person_id", table_name="person_alias")
    op.drop_table("person_alias")
