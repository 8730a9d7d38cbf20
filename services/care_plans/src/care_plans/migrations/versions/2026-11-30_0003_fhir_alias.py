"""What sending systems call a person: resolves their references in later resources.

Revision ID: care_plans_0003
Revises: care_plans_0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "care_plans_0003"
down_revision: str | None = "care_plans_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fhir_alias",
        sa.Column("sender_org", sa.String(20), nullable=False),
        sa.Column("resource_type", sa.String(40), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name="fk_fhir_alias_person_id_person"
        ),
        sa.PrimaryKeyConstraint("sender_org", "resource_type", "source_id", name="pk_fhir_alias"),
    )


def downgrade() -> None:
    op.drop_table("fhir_alias")
