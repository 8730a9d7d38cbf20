"""Search rows on SQLite: the same one narrow row per service at a location as on
PostgreSQL (directory_0006), so that the embedded mode's search reads one table driven by
FTS5 and the radius's box instead of joining the listing's tables for every service.
SQLite has no arrays: the facet values and the term ids are strings of items each closed
by a unit separator (char 31), matched with instr(). Nothing to do on PostgreSQL.

Revision ID: directory_0007
Revises: directory_0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "directory_0007"
down_revision: str | None = "directory_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of what the service's store writes (store/search_rows.py, SQLite), for the
# rows of the listings stored before this migration.
BUILD = """
INSERT INTO service_search (
    service_id, location_id, name, status, capacity, referral_route, free, minimum_age,
    maximum_age, latitude, longitude, has_borough, facets, term_ids
)
SELECT s.id, l.id, s.name, s.status, s.capacity, s.referral_route, s.free, s.minimum_age,
    s.maximum_age, l.latitude, l.longitude,
    EXISTS (SELECT 1 FROM service_facet f WHERE f.service_id = s.id AND f.facet = 'borough'),
    char(31) || coalesce((SELECT group_concat(f.facet || ':' || f.value || char(31), '')
        FROM service_facet f WHERE f.service_id = s.id), '')
        || 'capacity:' || s.capacity || char(31)
        || 'referral_route:' || s.referral_route || char(31)
        || 'free:' || CASE WHEN s.free THEN 'true' ELSE 'false' END || char(31),
    char(31) || coalesce((SELECT group_concat(t.term_id || char(31), '')
        FROM service_taxonomy t WHERE t.service_id = s.id), '')
FROM service s
LEFT JOIN service_at_location sal ON sal.service_id = s.id
LEFT JOIN location l ON l.id = sal.location_id
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    op.execute(
        """
        CREATE TABLE service_search (
            id INTEGER PRIMARY KEY,
            service_id CHAR(32) NOT NULL REFERENCES service (id) ON DELETE CASCADE,
            location_id CHAR(32),
            name VARCHAR(300) NOT NULL,
            status VARCHAR(20) NOT NULL,
            capacity VARCHAR(20) NOT NULL,
            referral_route VARCHAR(30) NOT NULL,
            free BOOLEAN NOT NULL,
            minimum_age INTEGER,
            maximum_age INTEGER,
            latitude FLOAT,
            longitude FLOAT,
            has_borough BOOLEAN NOT NULL,
            facets TEXT NOT NULL,
            term_ids TEXT NOT NULL
        )
        """
    )
    op.execute(BUILD)
    op.execute("CREATE INDEX ix_service_search_service_id ON service_search (service_id)")
    op.execute(
        "CREATE INDEX ix_service_search_latitude_longitude ON service_search (latitude, longitude)"
    )
    op.execute("ANALYZE service_search")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    op.execute("DROP TABLE service_search")
