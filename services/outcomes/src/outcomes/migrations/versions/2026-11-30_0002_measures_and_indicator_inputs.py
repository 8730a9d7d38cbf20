"""Measures and their pre/post changes; indicator inputs from the platform's events
(people, referrals, care plans, goals, overdue actions, care teams); data opt-outs.

Revision ID: outcomes_0002
Revises: outcomes_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "outcomes_0002"
down_revision: str | None = "outcomes_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(10), nullable=True),
        sa.Column("ethnicity_code", sa.String(2), nullable=True),
        sa.Column("borough", sa.String(60), nullable=True),
        sa.Column("neighbourhood", sa.String(10), nullable=True),
        sa.Column("lsoa", sa.String(12), nullable=True),
        sa.Column("imd_quintile", sa.Integer(), nullable=True),
        sa.Column("gp_practice_code", sa.String(10), nullable=True),
        sa.Column("has_nhs_number", sa.Boolean(), nullable=False),
        sa.Column("plus_groups", sa.JSON(), nullable=False),
        sa.Column("in_plus_group", sa.Boolean(), nullable=False),
        sa.Column("details_changed_at", UtcDateTime(), nullable=True),
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_person"),
    )
    op.create_table(
        "data_opt_out",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_data_opt_out"),
    )
    op.create_table(
        "measure",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("external", sa.JSON(), nullable=True),
        sa.Column("weights", sa.JSON(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("context_kind", sa.String(30), nullable=False),
        sa.Column("context_id", sa.String(100), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_by_name", sa.String(200), nullable=True),
        sa.Column("recorded_by_org", sa.String(20), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_measure"),
        sa.UniqueConstraint("idempotency_key", name="uq_measure_idempotency_key"),
    )
    op.create_index("ix_measure_person_instrument", "measure", ["person_id", "instrument"])
    op.create_index("ix_measure_recorded_at", "measure", ["recorded_at"])
    op.create_table(
        "measure_change",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(20), nullable=False),
        sa.Column("scale", sa.String(30), nullable=False),
        sa.Column("before_measure_id", sa.Uuid(), nullable=False),
        sa.Column("after_measure_id", sa.Uuid(), nullable=False),
        sa.Column("before_value", sa.Float(), nullable=False),
        sa.Column("after_value", sa.Float(), nullable=False),
        sa.Column("change", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(30), nullable=False),
        sa.Column("before_at", UtcDateTime(), nullable=False),
        sa.Column("after_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "instrument", "scale", name="pk_measure_change"),
    )
    op.create_index("ix_measure_change_after_at", "measure_change", ["after_at"])
    op.create_table(
        "referral_fact",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(30), nullable=True),
        sa.Column("urgency", sa.String(20), nullable=True),
        sa.Column("reason_codes", sa.JSON(), nullable=False),
        sa.Column("referrer_org", sa.String(20), nullable=True),
        sa.Column("neighbourhood", sa.String(10), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("triaged_at", UtcDateTime(), nullable=True),
        sa.Column("decision", sa.String(30), nullable=True),
        sa.Column("triaged_within_sla", sa.Boolean(), nullable=True),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        sa.Column("destination_kind", sa.String(30), nullable=True),
        sa.Column("destination_id", sa.String(100), nullable=True),
        sa.Column("social_prescription", sa.Boolean(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("referral_id", name="pk_referral_fact"),
    )
    op.create_index("ix_referral_fact_person_id", "referral_fact", ["person_id"])
    op.create_index("ix_referral_fact_received_at", "referral_fact", ["received_at"])
    op.create_table(
        "care_plan_fact",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_care_plan_fact"),
    )
    op.create_table(
        "goal_fact",
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.Column("achieved_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("goal_id", name="pk_goal_fact"),
    )
    op.create_index("ix_goal_fact_person_id", "goal_fact", ["person_id"])
    op.create_index("ix_goal_fact_added_at", "goal_fact", ["added_at"])
    op.create_table(
        "overdue_action",
        sa.Column("action_id", sa.Uuid(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("owner_org", sa.String(20), nullable=True),
        sa.Column("announced_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("action_id", "due_date", name="pk_overdue_action"),
    )
    op.create_index("ix_overdue_action_person_id", "overdue_action", ["person_id"])
    op.create_table(
        "care_team_member",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("organisation", sa.String(20), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "member_id", name="pk_care_team_member"),
    )


def downgrade() -> None:
    for table in (
        "care_team_member",
        "overdue_action",
        "goal_fact",
        "care_plan_fact",
        "referral_fact",
        "measure_change",
        "measure",
        "data_opt_out",
        "person",
    ):
        op.drop_table(table)
