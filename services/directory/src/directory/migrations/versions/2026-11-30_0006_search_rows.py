"""Search rows (PostgreSQL): one narrow row per service at a location (or per service with
no location) holding everything a search filters, ranks and counts facets on, so that one
indexed statement answers words + filters + radius. Kept by the write paths in the same
transaction; built here from the listings already stored. SQLite searches its normalised
tables and FTS5 as before: nothing to do there.

Revision ID: directory_0006
Revises: directory_0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "directory_0006"
down_revision: str | None = "directory_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of what the service's store writes (store/search_rows.py), for the rows of
# the listings stored before this migration.
BUILD = """
INSERT INTO service_search (
    service_id, location_id, name, status, capacity, referral_route, free, minimum_age,
    maximum_age, latitude, longitude, has_borough, facets, term_ids, search_vector
)
SELECT s.id, l.id, s.name, s.status, s.capacity, s.referral_route, s.free, s.minimum_age,
    s.maximum_age, l.latitude, l.longitude,
    EXISTS (SELECT 1 FROM service_facet f WHERE f.service_id = s.id AND f.facet = 'borough'),
    ARRAY(SELECT f.facet || ':' || f.value FROM service_facet f WHERE f.service_id = s.id)
        || ARRAY['capacity:' || s.capacity, 'referral_route:' || s.referral_route,
            'free:' || s.free::text],
    ARRAY(SELECT t.term_id FROM service_taxonomy t WHERE t.service_id = s.id),
    s.search_vector
FROM service s
LEFT JOIN service_at_location sal ON sal.service_id = s.id
LEFT JOIN location l ON l.id = sal.location_id
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE TABLE service_search (
            id bigserial PRIMARY KEY,
            service_id uuid NOT NULL REFERENCES service (id) ON DELETE CASCADE,
            location_id uuid,
            name varchar(300) NOT NULL,
            status varchar(20) NOT NULL,
            capacity varchar(20) NOT NULL,
            referral_route varchar(30) NOT NULL,
            free boolean NOT NULL,
            minimum_age integer,
            maximum_age integer,
            latitude double precision,
            longitude double precision,
            has_borough boolean NOT NULL,
            facets text[] NOT NULL,
            term_ids uuid[] NOT NULL,
            search_vector tsvector
        )
        """
    )
    op.execute(BUILD)
    op.execute("CREATE INDEX ix_service_search_service_id ON service_search (service_id)")
    # A b-tree, not a GiST index on a point: the planner has statistics for the columns
    # (not for a box), so it can tell a wide radius from a narrow one and prefer the words'
    # index when they are the rarer.
    op.execute(
        "CREATE INDEX ix_service_search_latitude_longitude ON service_search (latitude, longitude)"
    )
    op.execute(
        "CREATE INDEX ix_service_search_search_vector ON service_search USING gin (search_vector)"
    )
    op.execute("CREATE INDEX ix_service_search_facets ON service_search USING gin (facets)")
    op.execute("CREATE INDEX ix_service_search_term_ids ON service_search USING gin (term_ids)")
    op.execute("ANALYZE service_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE service_search")
