"""The person record and its details, consent and referrer role, the SLA watch, the front
door's copy of the directory.

Revision ID: referrals_0004
Revises: referrals_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime

revision: str = "referrals_0004"
down_revision: str | None = "referrals_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _person_details() -> list[sa.Column[object]]:
    return [
        sa.Column("sex", sa.String(10), nullable=True),
        sa.Column("gender_identity", sa.String(100), nullable=True),
        sa.Column("ethnicity_code", sa.String(2), nullable=True),
        sa.Column("preferred_language", sa.String(35), nullable=True),
        sa.Column("interpreter_needed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("referral") as batch:
        for column in _person_details():
            batch.add_column(column)
        batch.add_column(sa.Column("referrer_role", sa.String(100), nullable=True))
        batch.add_column(
            sa.Column("consent_to_share", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("sla_breach_published_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("destination_kind", sa.String(30), nullable=True))
        batch.add_column(sa.Column("destination_id", sa.String(100), nullable=True))
    op.create_index("ix_referral_destination_id", "referral", ["destination_id"])
    _copy_destinations()
    # The SLA watch looks for untriaged referrals past due that it has not announced yet.
    op.create_index(
        "ix_referral_sla_watch", "referral", ["sla_breach_published_at", "triage_due_at"]
    )
    op.create_table(
        "person",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("nhs_number", sa.String(10), nullable=True),
        sa.Column("given_name", sa.String(200), nullable=False),
        sa.Column("family_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("postcode", sa.String(10), nullable=True),
        sa.Column("gp_practice_code", sa.String(10), nullable=True),
        *_person_details(),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_person"),
    )
    op.create_table(
        "directory_service",
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("organization_name", sa.String(300), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("capacity", sa.String(20), nullable=False),
        sa.Column("referral_route", sa.String(30), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("service_id", name="pk_directory_service"),
    )


def _copy_destinations() -> None:
    """Referrals decided before this revision get their destination columns too."""
    referral = sa.table(
        "referral",
        sa.column("id", sa.Uuid()),
        sa.column("destination", sa.JSON()),
        sa.column("destination_kind", sa.String()),
        sa.column("destination_id", sa.String()),
    )
    connection = op.get_bind()
    decided = connection.execute(
        sa.select(referral.c.id, referral.c.destination).where(referral.c.destination.is_not(None))
    ).all()
    for referral_id, destination in decided:
        if not destination:  # a JSON null
            continue
        connection.execute(
            referral.update()
            .where(referral.c.id == referral_id)
            .values(destination_kind=destination["kind"], destination_id=destination["id"])
        )


def downgrade() -> None:
    op.drop_table("directory_service")
    op.drop_table("person")
    op.drop_index("ix_referral_sla_watch", "referral")
    op.drop_index("ix_referral_destination_id", "referral")
    with op.batch_alter_table("referral") as batch:
        for name in (
            "destination_id",
            "destination_kind",
            "sla_breach_published_at",
            "consent_to_share",
            "referrer_role",
        ):
            batch.drop_column(name)
        for column in reversed(_person_details()):
            batch.drop_column(column.name)
