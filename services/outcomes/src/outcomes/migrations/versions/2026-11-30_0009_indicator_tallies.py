"""Indicator tallies: numerator and denominator per indicator, day and combination of a
few person fields, kept in step with the units so a breakdown reads tallies, not units.
Created empty: the service builds each indicator's tallies when it starts (and whenever
an indicator's definition changes), and counts the units until they are built.

Revision ID: outcomes_0009
Revises: outcomes_0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outcomes_0009"
down_revision: str | None = "outcomes_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator_tally",
        sa.Column("indicator_id", sa.String(80), nullable=False),
        sa.Column("grouping", sa.String(80), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("person_imd_quintile", sa.Integer(), nullable=False),
        sa.Column("person_in_plus_group", sa.Boolean(), nullable=False),
        sa.Column("person_sex", sa.String(10), nullable=False),
        sa.Column("person_borough", sa.String(60), nullable=False),
        sa.Column("person_ethnicity_code", sa.String(2), nullable=False),
        sa.Column("person_neighbourhood", sa.String(10), nullable=False),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "indicator_id",
            "grouping",
            "day",
            "person_imd_quintile",
            "person_in_plus_group",
            "person_sex",
            "person_borough",
            "person_ethnicity_code",
            "person_neighbourhood",
            name="pk_indicator_tally",
        ),
    )
    op.create_table(
        "indicator_tally_state",
        sa.Column("indicator_id", sa.String(80), nullable=False),
        sa.Column("definition", sa.String(64), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("indicator_id", name="pk_indicator_tally_state"),
    )


def downgrade() -> None:
    op.drop_table("indicator_tally_state")
    op.drop_table("indicator_tally")
