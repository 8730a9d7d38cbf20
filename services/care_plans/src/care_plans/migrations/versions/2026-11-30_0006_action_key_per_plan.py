"""An action's id is its plan's own: ``plan_action`` is keyed by (plan, action id).

Action ids come from the plan document, and a client may choose them (an EPR's own ids, a
plan copied from a template): unique within a plan, not across plans. Keyed by the action id
alone, a second plan with the same ids could not be saved, and a delete or update of one
plan's action rows reached the other's.

Revision ID: care_plans_0006
Revises: care_plans_0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "care_plans_0006"
down_revision: str | None = "care_plans_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_action") as batch:
        batch.drop_constraint("pk_plan_action", type_="primary")
        batch.create_primary_key("pk_plan_action", ["plan_id", "id"])
        # The key leads with the plan: the index on plan_id alone is no longer needed.
        batch.drop_index("ix_plan_action_plan_id")


def downgrade() -> None:
    with op.batch_alter_table("plan_action") as batch:
        batch.create_index("ix_plan_action_plan_id", ["plan_id"])
        batch.drop_constraint("pk_plan_action", type_="primary")
        batch.create_primary_key("pk_plan_action", ["id"])
