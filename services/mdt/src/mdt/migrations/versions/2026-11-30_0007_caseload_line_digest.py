"""A digest of each caseload line, so a poll tells which lines it changed without reading
them back whole.

Revision ID: mdt_0007
Revises: mdt_0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mdt_0007"
down_revision: str | None = "mdt_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Lines written before have none: each is written again the next time it is touched.
    op.add_column("caseload_person", sa.Column("line_digest", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("caseload_person", "line_digest")
