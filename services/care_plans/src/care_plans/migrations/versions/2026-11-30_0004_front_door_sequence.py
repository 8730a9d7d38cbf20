"""The front door's version of the person (its events' ``sequence``), to ignore stale ones.

Revision ID: care_plans_0004
Revises: care_plans_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "care_plans_0004"
down_revision: str | None = "care_plans_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("front_door_sequence", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("front_door_sequence")
