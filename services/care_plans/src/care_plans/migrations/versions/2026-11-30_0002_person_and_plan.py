"""The person record, the plan and its versions, plan actions, referrals seen, break-glass.

Revision ID: care_plans_0002
Revises: care_plans_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "care_plans_0002"
down_revision: str | None = "care_plans_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("nhs_number", sa.String(10), nullable=True),
        sa.Column("given_name", sa.String(200), nullable=False),
        sa.Column("family_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(20), nullable=True),
        sa.Column("postcode", sa.String(10), nullable=True),
        sa.Column("gp_practice_code", sa.String(10), nullable=True),
        sa.Column("neighbourhood", sa.String(10), nullable=True),
        sa.Column("borough", sa.String(50), nullable=True),
        sa.Column("preferred_language", sa.String(20), nullable=True),
        sa.Column("interpreter_needed", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("recorded_from", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("front_door_changed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_person"),
        sa.UniqueConstraint("nhs_number", name="uq_person_nhs_number"),
    )
    op.create_index("ix_person_neighbourhood", "person", ["neighbourhood"])
    op.create_table(
        "care_plan",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_by_org", sa.String(20), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name="fk_care_plan_person_id_person"),
        sa.PrimaryKeyConstraint("id", name="pk_care_plan"),
        sa.UniqueConstraint("person_id", name="uq_care_plan_person_id"),
    )
    op.create_table(
        "care_plan_version",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_by_name", sa.String(200), nullable=True),
        sa.Column("organisation", sa.String(20), nullable=True),
        sa.Column("role", sa.String(100), nullable=True),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["care_plan.id"], name="fk_care_plan_version_plan_id_care_plan"
        ),
        sa.PrimaryKeyConstraint("plan_id", "version", name="pk_care_plan_version"),
    )
    op.create_table(
        "plan_action",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("overdue_announced_for", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["care_plan.id"], name="fk_plan_action_plan_id_care_plan"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_plan_action"),
    )
    op.create_index("ix_plan_action_plan_id", "plan_action", ["plan_id"])
    op.create_index("ix_plan_action_status_due_date", "plan_action", ["status", "due_date"])
    op.create_table(
        "person_referral",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("referrer_org", sa.String(20), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("destination_kind", sa.String(30), nullable=True),
        sa.Column("destination_id", sa.String(100), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", name="pk_person_referral"),
    )
    op.create_index("ix_person_referral_person_id", "person_referral", ["person_id"])
    op.create_table(
        "break_glass",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name="fk_break_glass_person_id_person"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_break_glass"),
    )
    op.create_index("ix_break_glass_person_id_actor", "break_glass", ["person_id", "actor"])


def downgrade() -> None:
    op.drop_table("break_glass")
    op.drop_table("person_referral")
    op.drop_table("plan_action")
    op.drop_table("care_plan_version")
    op.drop_table("care_plan")
    op.drop_table("person")
