"""The triage queue at 100,000 referrals: what a front door looks at most — its borough's or
neighbourhood's referrals still waiting for triage, soonest due first — read straight off an
index in that order, and "breached" from two small partial indexes per borough.

``(borough, status, triage_due_at)`` cannot give the order for two statuses at once (received
and in triage), so PostgreSQL walked the whole ``triage_due_at`` index filtering rows instead
(200 ms for a page at 100,000). Partial indexes over the waiting statuses hold that order.

Revision ID: referrals_0007
Revises: referrals_0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "referrals_0007"
down_revision: str | None = "referrals_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "status IN ('received', 'in_triage')"
OVERDUE = "triaged_at IS NULL AND status IN ('received', 'in_triage')"


def _partial(name: str, columns: list[str], where: str) -> None:
    op.create_index(
        name,
        "referral",
        columns,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    _partial("ix_referral_waiting_borough", ["borough", "triage_due_at", "id"], WAITING)
    _partial("ix_referral_waiting_neighbourhood", ["neighbourhood", "triage_due_at", "id"], WAITING)
    _partial("ix_referral_overdue_borough", ["borough", "triage_due_at"], OVERDUE)
    op.drop_index("ix_referral_triaged_late", "referral")
    _partial("ix_referral_triaged_late", ["borough", "triage_due_at"], "triaged_late")
    # Any status in a neighbourhood, in the queue's order; the single-column index and the
    # (neighbourhood, status, ...) one are covered by it and the partial one above.
    op.drop_index("ix_referral_queue_neighbourhood", "referral")
    op.drop_index("ix_referral_neighbourhood", "referral")
    op.create_index(
        "ix_referral_neighbourhood_due", "referral", ["neighbourhood", "triage_due_at", "id"]
    )
    op.drop_index("ix_referral_status", "referral")  # a prefix of ix_referral_queue_status


def downgrade() -> None:
    op.create_index("ix_referral_status", "referral", ["status"])
    op.drop_index("ix_referral_neighbourhood_due", "referral")
    op.create_index("ix_referral_neighbourhood", "referral", ["neighbourhood"])
    op.create_index(
        "ix_referral_queue_neighbourhood",
        "referral",
        ["neighbourhood", "status", "triage_due_at", "id"],
    )
    op.drop_index("ix_referral_triaged_late", "referral")
    _partial("ix_referral_triaged_late", ["triage_due_at"], "triaged_late")
    for name in (
        "ix_referral_overdue_borough",
        "ix_referral_waiting_neighbourhood",
        "ix_referral_waiting_borough",
    ):
        op.drop_index(name, "referral")
