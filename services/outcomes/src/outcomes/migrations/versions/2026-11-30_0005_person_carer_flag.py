"""Whether a referral for carers' support came for the person, kept on the person so their
PLUS groups are recomputed without reading their referrals on every event.

Revision ID: outcomes_0005
Revises: outcomes_0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outcomes_0005"
down_revision: str | None = "outcomes_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(
            sa.Column("referred_as_carer", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # People already referred for carers' support keep the group they were given.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE person SET referred_as_carer = true WHERE plus_groups::text LIKE '%carer%'"
        )
    else:
        op.execute("UPDATE person SET referred_as_carer = 1 WHERE plus_groups LIKE '%carer%'")


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("referred_as_carer")
