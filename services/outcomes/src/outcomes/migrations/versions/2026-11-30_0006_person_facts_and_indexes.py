"""Person-level facts indicators filter on (social-prescribed, has a care plan), filled in
from the facts already kept, and indexes for the indicator queries.

Revision ID: outcomes_0006
Revises: outcomes_0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outcomes_0006"
down_revision: str | None = "outcomes_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(
            sa.Column("social_prescribed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("has_care_plan", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        sa.text(
            "UPDATE person SET social_prescribed = :yes WHERE person_id IN "
            "(SELECT person_id FROM referral_fact WHERE social_prescription = :yes)"
        ).bindparams(yes=True)
    )
    op.execute(
        sa.text(
            "UPDATE person SET has_care_plan = :yes "
            "WHERE person_id IN (SELECT person_id FROM care_plan_fact)"
        ).bindparams(yes=True)
    )
    op.create_index("ix_measure_change_instrument_scale", "measure_change", ["instrument", "scale"])
    op.create_index("ix_referral_fact_triaged_at", "referral_fact", ["triaged_at"])


def downgrade() -> None:
    op.drop_index("ix_referral_fact_triaged_at", "referral_fact")
    op.drop_index("ix_measure_change_instrument_scale", "measure_change")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("has_care_plan")
        batch.drop_column("social_prescribed")
