"""Search rows (PostgreSQL): one GIN index answers a search's words, needs, facet filters and
radius together. Each row's tsvector also holds its taxonomy terms as lexemes
(``term:<id>``, no position: ranking never counts them), so a need met by a tag or by its
words is one tsquery; each row carries its location's grid cell (about 2 km,
``domain.geo.cell_of``), so a radius is the cells reaching into its circle. The index on
(tsvector, facets, cells) replaces the tsvector's and the facets' own; the terms' GIN and
the latitude/longitude b-tree stay (taxonomy filters, radii too wide for cells).
Nothing to do on SQLite.

Revision ID: directory_0008
Revises: directory_0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "directory_0008"
down_revision: str | None = "directory_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of what the service's store writes (store/search_rows.py, domain/geo.py).
TAGGED = """search_vector || array_to_tsvector(ARRAY(
    SELECT 'term:' || t FROM unnest(term_ids) AS t))"""
CELL = """CASE WHEN latitude IS NULL OR longitude IS NULL THEN CAST('{}' AS integer[])
    ELSE ARRAY[CAST(floor(latitude / CAST(0.018 AS float8)) AS integer) * 100000
        + CAST(floor(longitude / CAST(0.0288 AS float8)) AS integer)] END"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE service_search ADD COLUMN cells integer[] NOT NULL DEFAULT '{}'")
    op.execute(f"UPDATE service_search SET search_vector = {TAGGED}, cells = {CELL}")  # noqa: S608
    op.execute("DROP INDEX ix_service_search_search_vector")
    op.execute("DROP INDEX ix_service_search_facets")
    op.execute(
        "CREATE INDEX ix_service_search_words_facets_cells ON service_search "
        "USING gin (search_vector, facets, cells)"
    )
    op.execute("ANALYZE service_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_service_search_words_facets_cells")
    op.execute(
        "UPDATE service_search r SET search_vector = s.search_vector "
        "FROM service s WHERE s.id = r.service_id"
    )
    op.execute("ALTER TABLE service_search DROP COLUMN cells")
    op.execute(
        "CREATE INDEX ix_service_search_search_vector ON service_search USING gin (search_vector)"
    )
    op.execute("CREATE INDEX ix_service_search_facets ON service_search USING gin (facets)")
