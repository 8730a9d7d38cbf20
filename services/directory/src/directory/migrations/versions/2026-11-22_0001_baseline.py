"""Baseline: the service's database exists and is versioned; its tables come with its issue.

Revision ID: directory_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

revision: str = "directory_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
