"""The whole MDT view: person snapshots, care plans (goals, actions, care teams), outcome
measures, directory listings and the derived caseload line per person; referrals keep the
details a caseload needs (GP, deprivation, carers' support, SLA breach).

Revision ID: mdt_0002
Revises: mdt_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "mdt_0002"
down_revision: str | None = "mdt_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _versioned(*, ranked: bool = True) -> list[sa.Column[int]]:
    columns = [sa.Column("sequence", sa.Integer(), nullable=False)]
    if ranked:
        columns.append(sa.Column("rank", sa.Integer(), nullable=False))
    return columns


def upgrade() -> None:
    with op.batch_alter_table("caseload_referral") as batch:
        batch.add_column(
            sa.Column("received", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("gp_practice_code", sa.String(10), nullable=True))
        batch.add_column(sa.Column("imd_quintile", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("for_carer_support", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("breached_sla", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("referrer_org", sa.String(20), nullable=True))
    with op.batch_alter_table("timeline_entry") as batch:
        batch.add_column(sa.Column("directory_service_id", sa.Uuid(), nullable=True))

    op.create_table(
        "person_snapshot",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("front_door", sa.JSON(), nullable=True),
        sa.Column("front_door_sequence", sa.Integer(), nullable=True),
        sa.Column("care_record", sa.JSON(), nullable=True),
        sa.Column("care_record_at", UtcDateTime(), nullable=True),
        sa.Column("care_record_event", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("person_id", name="pk_person_snapshot"),
    )
    op.create_table(
        "care_plan",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("key_worker_org", sa.String(20), nullable=True),
        sa.Column("neighbourhood", sa.String(10), nullable=True),
        *_versioned(ranked=False),
        sa.PrimaryKeyConstraint("plan_id", name="pk_care_plan"),
    )
    op.create_index("ix_care_plan_person_id", "care_plan", ["person_id"])
    op.create_table(
        "plan_goal",
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        *_versioned(),
        sa.PrimaryKeyConstraint("goal_id", name="pk_plan_goal"),
    )
    op.create_index("ix_plan_goal_person_id", "plan_goal", ["person_id"])
    op.create_table(
        "plan_action",
        sa.Column("action_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("owner_org", sa.String(20), nullable=True),
        sa.Column("owner_team", sa.String(100), nullable=True),
        *_versioned(),
        sa.PrimaryKeyConstraint("action_id", name="pk_plan_action"),
    )
    op.create_index("ix_plan_action_person_id", "plan_action", ["person_id"])
    op.create_table(
        "care_team_member",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("organisation", sa.String(20), nullable=True),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("role", sa.String(200), nullable=True),
        sa.Column("key_worker", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_versioned(),
        sa.PrimaryKeyConstraint("member_id", name="pk_care_team_member"),
    )
    op.create_index("ix_care_team_member_person_id", "care_team_member", ["person_id"])
    op.create_table(
        "outcome_measure",
        sa.Column("measure_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(20), nullable=False),
        sa.Column("scale", sa.String(50), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("change_since_first", sa.Float(), nullable=True),
        sa.Column("change_direction", sa.String(30), nullable=True),
        sa.PrimaryKeyConstraint("measure_id", name="pk_outcome_measure"),
    )
    op.create_index("ix_outcome_measure_person_id", "outcome_measure", ["person_id"])
    op.create_table(
        "directory_service",
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("organization_name", sa.String(300), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("capacity", sa.String(20), nullable=True),
        *_versioned(),
        sa.PrimaryKeyConstraint("service_id", name="pk_directory_service"),
    )
    op.create_table(
        "caseload_person",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("neighbourhood", sa.String(10), nullable=True),
        sa.Column("on_caseload", sa.Boolean(), nullable=False),
        sa.Column("given_name", sa.String(200), nullable=False),
        sa.Column("family_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(30), nullable=True),
        sa.Column("urgency", sa.String(20), nullable=True),
        sa.Column("urgency_rank", sa.Integer(), nullable=False),
        sa.Column("waiting_since", UtcDateTime(), nullable=True),
        sa.Column("open_referrals", sa.Integer(), nullable=False),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("plan_status", sa.String(20), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("care_team", sa.JSON(), nullable=False),
        sa.Column("open_actions", sa.Integer(), nullable=False),
        sa.Column("earliest_open_due", sa.Date(), nullable=True),
        sa.Column("wellbeing", sa.JSON(), nullable=True),
        sa.Column("deteriorated", sa.JSON(), nullable=False),
        sa.Column("deteriorating", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("core20plus5", sa.Boolean(), nullable=False),
        sa.Column("inclusion_health", sa.Boolean(), nullable=False),
        sa.Column("carer", sa.Boolean(), nullable=False),
        sa.Column("no_gp", sa.Boolean(), nullable=False),
        sa.Column("interpreter_needed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_caseload_person"),
    )
    # The caseload reads one neighbourhood's people on it, oldest wait first.
    op.create_index(
        "ix_caseload_person_neighbourhood",
        "caseload_person",
        ["neighbourhood", "on_caseload", "waiting_since"],
    )


def downgrade() -> None:
    for table in (
        "caseload_person",
        "directory_service",
        "outcome_measure",
        "care_team_member",
        "plan_action",
        "plan_goal",
        "care_plan",
        "person_snapshot",
    ):
        op.drop_table(table)
    with op.batch_alter_table("timeline_entry") as batch:
        batch.drop_column("directory_service_id")
    with op.batch_alter_table("caseload_referral") as batch:
        for column in (
            "referrer_org",
            "breached_sla",
            "for_carer_support",
            "imd_quintile",
            "gp_practice_code",
            "received",
        ):
            batch.drop_column(column)
