"""Versions stored as patches, with a whole document only every few versions.

Revision ID: care_plans_0005
Revises: care_plans_0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "care_plans_0005"
down_revision: str | None = "care_plans_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Versions saved before this keep their whole documents: each is its own snapshot.
    with op.batch_alter_table("care_plan_version") as batch:
        batch.alter_column("document", existing_type=sa.JSON(), nullable=True)
        batch.add_column(sa.Column("patch", sa.JSON(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("versions stored as patches cannot be made whole again here")
