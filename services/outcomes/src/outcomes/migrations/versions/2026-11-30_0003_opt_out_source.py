"""Where each data opt-out came from (a person event, or the national list an admin
loaded), so a new list replaces only the old list.

Revision ID: outcomes_0003
Revises: outcomes_0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outcomes_0003"
down_revision: str | None = "outcomes_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("data_opt_out") as batch:
        batch.add_column(sa.Column("source", sa.String(10), nullable=False, server_default="event"))


def downgrade() -> None:
    with op.batch_alter_table("data_opt_out") as batch:
        batch.drop_column("source")
