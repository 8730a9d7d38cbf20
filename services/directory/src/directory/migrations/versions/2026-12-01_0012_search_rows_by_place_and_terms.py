"""Search rows (PostgreSQL) stored in the order of their grid cell and, within a cell, of
their taxonomy terms: the rows of a cell that a need finds (its terms, and mostly its words,
go with them) lie together. In cell order only (directory_0009), "benefits" within 5 km
(1,062 rows from the index) read 706 pages of the benchmark's 100,000 services, about 1,300
rows a cell; the cell's rows of each need now share a few pages. Over 130 benchmark
questions the search statement took 14% less time (6.24 → 5.37 ms each, one connection), with
the same answers. The b-tree on (cells, term_ids) replaces the one on cells as the table's
clustering index, used by ``CLUSTER`` only: rows written later go wherever there is room
until the table is clustered again (``CLUSTER service_search``). Nothing to do on SQLite.

Revision ID: directory_0012
Revises: directory_0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "directory_0012"
down_revision: str | None = "directory_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _order_by(index: str, columns: str, former: str) -> None:
    op.execute(f"CREATE INDEX {index} ON service_search ({columns})")
    # Rewrites the table in the index's order, marks it as the clustering index and
    # rebuilds the other indexes.
    op.execute(f"CLUSTER service_search USING {index}")
    op.execute(f"DROP INDEX {former}")
    op.execute("ANALYZE service_search")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _order_by("ix_service_search_cells_terms", "cells, term_ids", "ix_service_search_cells")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _order_by("ix_service_search_cells", "cells", "ix_service_search_cells_terms")
