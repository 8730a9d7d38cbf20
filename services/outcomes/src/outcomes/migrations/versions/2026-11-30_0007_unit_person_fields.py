"""Each unit row (referral, measure change, goal, overdue action) carries its person's
breakdown fields, facts and opt-out, filled in from the rows already kept, so an
indicator is one grouped scan of its units.

Revision ID: outcomes_0007
Revises: outcomes_0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outcomes_0007"
down_revision: str | None = "outcomes_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNITS = ("referral_fact", "measure_change", "goal_fact", "overdue_action")
COPIED = (
    ("person_imd_quintile", "imd_quintile", sa.Integer()),
    ("person_sex", "sex", sa.String(10)),
    ("person_ethnicity_code", "ethnicity_code", sa.String(2)),
    ("person_borough", "borough", sa.String(60)),
    ("person_neighbourhood", "neighbourhood", sa.String(10)),
    ("person_birth_date", "birth_date", sa.Date()),
    ("person_in_plus_group", "in_plus_group", sa.Boolean()),
    ("person_social_prescribed", "social_prescribed", sa.Boolean()),
    ("person_has_care_plan", "has_care_plan", sa.Boolean()),
)


def upgrade() -> None:
    for table in UNITS:
        with op.batch_alter_table(table) as batch:
            for column, _, type_ in COPIED:
                batch.add_column(sa.Column(column, type_, nullable=True))
            batch.add_column(
                sa.Column(
                    "person_opted_out", sa.Boolean(), nullable=False, server_default=sa.false()
                )
            )
        _fill_in(table)


def _fill_in(name: str) -> None:
    person = sa.table("person", sa.column("person_id"), *(sa.column(s) for _, s, _ in COPIED))
    opt_out = sa.table("data_opt_out", sa.column("person_id"))
    unit = sa.table(
        name,
        sa.column("person_id"),
        sa.column("person_opted_out"),
        *(sa.column(c) for c, _, _ in COPIED),
    )
    op.execute(
        sa.update(unit)
        .values({unit.c[c]: person.c[s] for c, s, _ in COPIED})
        .where(person.c.person_id == unit.c.person_id)
    )
    op.execute(
        sa.update(unit).values(
            person_opted_out=unit.c.person_id.in_(sa.select(opt_out.c.person_id))
        )
    )


def downgrade() -> None:
    for table in UNITS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("person_opted_out")
            for column, _, _ in reversed(COPIED):
                batch.drop_column(column)
