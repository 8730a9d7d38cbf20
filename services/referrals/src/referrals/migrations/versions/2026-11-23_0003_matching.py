"""Matching at the door: the demographic match key, the duplicate flag, referral links.

Revision ID: referrals_0003
Revises: referrals_0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "referrals_0003"
down_revision: str | None = "referrals_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referral") as batch:
        batch.add_column(sa.Column("match_key", sa.String(300), nullable=True))
        batch.add_column(
            sa.Column("probable_duplicate", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_referral_match_key", "referral", ["match_key"])
    op.create_table(
        "referral_link",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("linked_referral_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("matched_on", sa.String(30), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name="fk_referral_link_referral_id_referral"
        ),
        sa.ForeignKeyConstraint(
            ["linked_referral_id"],
            ["referral.id"],
            name="fk_referral_link_linked_referral_id_referral",
        ),
        sa.PrimaryKeyConstraint("referral_id", "linked_referral_id", name="pk_referral_link"),
    )
    op.create_index("ix_referral_link_linked_referral_id", "referral_link", ["linked_referral_id"])


def downgrade() -> None:
    op.drop_table("referral_link")
    op.drop_index("ix_referral_match_key", "referral")
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("probable_duplicate")
        batch.drop_column("match_key")
