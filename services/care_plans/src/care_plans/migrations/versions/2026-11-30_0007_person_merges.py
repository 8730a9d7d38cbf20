"""Person merges: the ids the front door merged into others, and records kept to combine.

``person_alias`` maps a merged (minted) person id to the id it became; ``person.merged_into``
marks a record kept under a merged id (both ids had one), and ``person.records_to_combine``
counts, on the surviving record, those awaiting the care team.

Revision ID: care_plans_0007
Revises: care_plans_0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "care_plans_0007"
down_revision: str | None = "care_plans_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("merged_into", sa.Uuid(), nullable=True))
        batch.add_column(
            sa.Column("records_to_combine", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_index("ix_person_merged_into", ["merged_into"])
    op.create_table(
        "person_alias",
        sa.Column("merged_person_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("merged_at", UtcDateTime(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("record_kept", sa.Boolean(), nullable=False),
        sa.Column("combined_at", UtcDateTime(), nullable=True),
        sa.Column("combined_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("merged_person_id", name="pk_person_alias"),
    )
    op.create_index("ix_person_alias_person_id", "person_alias", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_person_alias_person_id", "person_alias")
    op.drop_table("person_alias")
    with op.batch_alter_table("person") as batch:
        batch.drop_index("ix_person_merged_into")
        batch.drop_column("records_to_combine")
        batch.drop_column("merged_into")
