"""Directory listings: the version of the change that last set each field, since the
listing events carry different fields.

Revision ID: mdt_0003
Revises: mdt_0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mdt_0003"
down_revision: str | None = "mdt_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("organization_version", "status_version", "capacity_version")


def upgrade() -> None:
    with op.batch_alter_table("directory_service") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("directory_service") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
