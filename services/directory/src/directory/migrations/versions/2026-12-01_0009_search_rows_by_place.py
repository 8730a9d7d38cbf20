"""Search rows (PostgreSQL) stored in the order of their grid cell, so that the rows a
radius finds lie on few pages. In load order, a broad question ("lonely" within 5 km: some
6,000 rows from the index) read a page per row; in cell order it reads the pages of the
cells it asked for. A b-tree on the cells gives ``CLUSTER`` that order and is marked as the
table's clustering index: rows written later (a listing saved, imported, withdrawn) go
wherever there is room, and a plain ``CLUSTER service_search`` restores the order (it
locks the table while it rewrites it: seconds at 100,000 rows). Nothing to do on SQLite.

Revision ID: directory_0009
Revises: directory_0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "directory_0009"
down_revision: str | None = "directory_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_service_search_cells ON service_search (cells)")
    # Rewrites the table in cell order and rebuilds its indexes (the GIN index comes out
    # smaller than one grown row by row).
    op.execute("CLUSTER service_search USING ix_service_search_cells")
    op.execute("ANALYZE service_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The rows stay where they are; only the order's index goes.
    op.execute("DROP INDEX ix_service_search_cells")
