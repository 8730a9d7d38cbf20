"""Search paths: covering indexes for the proximity filter. A location box is read from
the index alone (latitude, longitude, id), and a location's services likewise
(location_id, service_id).

Revision ID: directory_0005
Revises: directory_0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "directory_0005"
down_revision: str | None = "directory_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_location_lat_lon", table_name="location")
    op.create_index("ix_location_lat_lon_id", "location", ["latitude", "longitude", "id"])
    op.drop_index("ix_service_at_location_location_id", table_name="service_at_location")
    op.create_index(
        "ix_service_at_location_location_id_service_id",
        "service_at_location",
        ["location_id", "service_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_service_at_location_location_id_service_id", table_name="service_at_location")
    op.create_index("ix_service_at_location_location_id", "service_at_location", ["location_id"])
    op.drop_index("ix_location_lat_lon_id", table_name="location")
    op.create_index("ix_location_lat_lon", "location", ["latitude", "longitude"])
