"""An index that answers a change indicator on its own: the instrument, scale and period
date, with the direction and the person's copied fields included (PostgreSQL keeps them
in the index; SQLite builds the plain index).

Revision ID: outcomes_0008
Revises: outcomes_0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "outcomes_0008"
down_revision: str | None = "outcomes_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INCLUDED = [
    "direction",
    "person_imd_quintile",
    "person_sex",
    "person_ethnicity_code",
    "person_borough",
    "person_neighbourhood",
    "person_birth_date",
    "person_in_plus_group",
    "person_social_prescribed",
    "person_has_care_plan",
    "person_opted_out",
]


def upgrade() -> None:
    op.drop_index("ix_measure_change_instrument_scale", "measure_change")
    op.create_index(
        "ix_measure_change_indicator",
        "measure_change",
        ["instrument", "scale", "after_at"],
        postgresql_include=INCLUDED,
    )


def downgrade() -> None:
    op.drop_index("ix_measure_change_indicator", "measure_change")
    op.create_index("ix_measure_change_instrument_scale", "measure_change", ["instrument", "scale"])
