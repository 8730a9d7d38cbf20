"""Plan actions by plan: the caseload page counts each listed plan's overdue actions.

Revision ID: mdt_0006
Revises: mdt_0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "mdt_0006"
down_revision: str | None = "mdt_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_plan_action_plan_id", "plan_action", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_plan_action_plan_id", table_name="plan_action")
