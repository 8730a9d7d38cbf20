"""Listings: organisations, services, locations, taxonomy (with the social-needs vocabulary
shared with the front door), search indexes, edit history and uptake.

Full-text search: PostgreSQL keeps a weighted ``tsvector`` as a generated column and uses
pg_trgm for misspelt words; SQLite keeps an FTS5 table beside ``service``.

Revision ID: directory_0002
Revises: directory_0001
Create Date: 2026-11-30
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carethread.db import UtcDateTime
from carethread.db.tables import BigIntId

revision: str = "directory_0002"
down_revision: str | None = "directory_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fixed ids, so every deployment gives a term the same id.
VOCABULARY_NAMESPACE = uuid.UUID("6f0d8a4e-2b1c-5d3e-9a7f-1c2b3d4e5f60")
NEEDS_TAXONOMY_ID = uuid.uuid5(VOCABULARY_NAMESPACE, "taxonomy:social-needs")

# (code, name, parent code, synonyms). The nine top-level codes are the front door's reason
# codes (referrals' SOCIAL_NEEDS); the terms below them are the kinds of service a social
# prescriber looks for. Synonyms are the words people use for the need.
NEEDS: list[tuple[str, str, str | None, list[str]]] = [
    (
        "housing",
        "Housing",
        None,
        ["homelessness", "homeless", "tenancy", "eviction", "rent arrears", "rough sleeping"],
    ),
    ("housing-advice", "Housing advice", "housing", ["tenancy advice", "housing options"]),
    (
        "homelessness-support",
        "Homelessness support",
        "housing",
        ["rough sleeping", "night shelter", "hostel"],
    ),
    (
        "debt-benefits",
        "Debt and benefits",
        None,
        [
            "money",
            "money advice",
            "debt",
            "benefits",
            "universal credit",
            "financial",
            "arrears",
            "welfare rights",
        ],
    ),
    ("debt-advice", "Debt advice", "debt-benefits", ["debt management", "bills"]),
    (
        "benefits-advice",
        "Benefits advice",
        "debt-benefits",
        ["welfare benefits", "pip", "attendance allowance"],
    ),
    (
        "isolation",
        "Isolation and loneliness",
        None,
        ["loneliness", "lonely", "isolated", "social isolation", "friendship", "company"],
    ),
    ("befriending", "Befriending", "isolation", ["befriender", "telephone friendship", "visiting"]),
    (
        "social-groups",
        "Social groups and clubs",
        "isolation",
        ["lunch club", "social club", "coffee morning", "community group"],
    ),
    (
        "employment",
        "Employment and skills",
        None,
        ["job", "jobs", "work", "unemployed", "skills", "training", "volunteering", "careers"],
    ),
    (
        "employment-support",
        "Employment support",
        "employment",
        ["job search", "cv", "careers advice"],
    ),
    (
        "english-language",
        "English language (ESOL)",
        "employment",
        ["esol", "english classes", "english lessons", "learn english"],
    ),
    ("food", "Food", None, ["hunger", "hungry", "meals", "food poverty", "groceries"]),
    ("food-bank", "Food bank", "food", ["foodbank", "food parcel", "food parcels"]),
    (
        "community-meals",
        "Community meals",
        "food",
        ["community kitchen", "community meal", "hot meal", "lunch"],
    ),
    (
        "carers",
        "Carers' support",
        None,
        ["carer", "caring", "unpaid carer", "young carer", "respite"],
    ),
    (
        "mental-wellbeing",
        "Mental wellbeing",
        None,
        ["mental health", "wellbeing", "anxiety", "depression", "stress", "low mood"],
    ),
    (
        "counselling",
        "Counselling",
        "mental-wellbeing",
        ["counsellor", "talking therapy", "talking therapies", "therapy"],
    ),
    ("peer-support", "Peer support", "mental-wellbeing", ["support group", "peer group"]),
    (
        "physical-activity",
        "Physical activity",
        "mental-wellbeing",
        ["exercise", "walking", "walking group", "sport", "fitness", "yoga", "dance"],
    ),
    (
        "arts-creativity",
        "Arts and creativity",
        "mental-wellbeing",
        ["arts", "crafts", "music", "singing", "choir", "gardening"],
    ),
    (
        "falls-frailty",
        "Falls and frailty",
        None,
        ["falls", "frailty", "frail", "balance", "mobility", "older people"],
    ),
    (
        "strength-balance",
        "Strength and balance",
        "falls-frailty",
        ["falls prevention", "chair exercise", "tai chi"],
    ),
    (
        "substance-use",
        "Substance use",
        None,
        ["alcohol", "drugs", "drinking", "addiction", "recovery", "gambling"],
    ),
]


def _seed_needs() -> None:
    taxonomy = sa.table(
        "taxonomy",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("uri", sa.String()),
        sa.column("version", sa.String()),
    )
    term = sa.table(
        "taxonomy_term",
        sa.column("id", sa.Uuid()),
        sa.column("taxonomy_id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("parent_id", sa.Uuid()),
        sa.column("synonyms", sa.JSON()),
    )
    op.bulk_insert(
        taxonomy,
        [
            {
                "id": NEEDS_TAXONOMY_ID,
                "name": "CareThread social needs",
                "description": "The wider determinants of health a social prescriber links "
                "people to support for; shared with the front door's referral reasons.",
                "uri": None,
                "version": "1",
            }
        ],
    )

    def term_id(code: str) -> uuid.UUID:
        return uuid.uuid5(VOCABULARY_NAMESPACE, f"term:{code}")

    op.bulk_insert(
        term,
        [
            {
                "id": term_id(code),
                "taxonomy_id": NEEDS_TAXONOMY_ID,
                "code": code,
                "name": name,
                "description": name,
                "parent_id": term_id(parent) if parent else None,
                "synonyms": synonyms,
            }
            for code, name, parent, synonyms in NEEDS
        ],
    )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "organization",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("email", sa.String(300), nullable=True),
        sa.Column("website", sa.String(500), nullable=True),
        sa.Column("logo", sa.String(500), nullable=True),
        sa.Column("uri", sa.String(500), nullable=True),
        sa.Column("parent_organization_id", sa.Uuid(), nullable=True),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organization"),
    )
    op.create_index("ix_organization_name", "organization", ["name"])
    op.create_table(
        "location",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("location_type", sa.String(20), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("address_1", sa.String(300), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("postcode", sa.String(20), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("borough", sa.String(50), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("accessibility", sa.JSON(), nullable=False),
        sa.Column("external_identifier", sa.String(100), nullable=True),
        sa.Column("external_identifier_type", sa.String(50), nullable=True),
        sa.Column("address_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_location"),
    )
    op.create_index("ix_location_postcode", "location", ["postcode"])
    op.create_index("ix_location_lat_lon", "location", ["latitude", "longitude"])
    service_columns: list[sa.schema.SchemaItem] = [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("email", sa.String(300), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("capacity", sa.String(20), nullable=False),
        sa.Column("referral_route", sa.String(30), nullable=False),
        sa.Column("minimum_age", sa.Integer(), nullable=True),
        sa.Column("maximum_age", sa.Integer(), nullable=True),
        sa.Column("free", sa.Boolean(), nullable=False),
        sa.Column("fees", sa.Text(), nullable=True),
        sa.Column("eligibility", sa.Text(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("last_verified_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service"),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organization.id"], name="fk_service_organization_id_organization"
        ),
    ]
    op.create_table("service", *service_columns)
    op.create_index("ix_service_organization_id", "service", ["organization_id"])
    op.create_index("ix_service_updated_at", "service", ["updated_at"])
    op.create_index("ix_service_status_capacity", "service", ["status", "capacity"])
    op.create_table(
        "service_at_location",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_at_location"),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name="fk_service_at_location_service_id_service",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name="fk_service_at_location_location_id_location"
        ),
        sa.UniqueConstraint("service_id", "location_id", name="uq_service_at_location_service_id"),
    )
    op.create_index("ix_service_at_location_service_id", "service_at_location", ["service_id"])
    op.create_index("ix_service_at_location_location_id", "service_at_location", ["location_id"])
    op.create_table(
        "taxonomy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("uri", sa.String(500), nullable=True),
        sa.Column("version", sa.String(50), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_taxonomy"),
    )
    op.create_table(
        "taxonomy_term",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("taxonomy_id", sa.Uuid(), nullable=True),
        sa.Column("code", sa.String(100), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("term_uri", sa.String(500), nullable=True),
        sa.Column("synonyms", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_taxonomy_term"),
        sa.ForeignKeyConstraint(
            ["taxonomy_id"], ["taxonomy.id"], name="fk_taxonomy_term_taxonomy_id_taxonomy"
        ),
        sa.UniqueConstraint("code", name="uq_taxonomy_term_code"),
    )
    op.create_index("ix_taxonomy_term_taxonomy_id", "taxonomy_term", ["taxonomy_id"])
    op.create_index("ix_taxonomy_term_parent_id", "taxonomy_term", ["parent_id"])
    op.create_table(
        "service_taxonomy",
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("term_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("service_id", "term_id", name="pk_service_taxonomy"),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name="fk_service_taxonomy_service_id_service",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["taxonomy_term.id"], name="fk_service_taxonomy_term_id_taxonomy_term"
        ),
    )
    op.create_index("ix_service_taxonomy_term_id", "service_taxonomy", ["term_id"])
    op.create_table(
        "service_facet",
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("facet", sa.String(20), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("service_id", "facet", "value", name="pk_service_facet"),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name="fk_service_facet_service_id_service",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_service_facet_facet_value", "service_facet", ["facet", "value", "service_id"]
    )
    op.create_table(
        "opening_hours",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("closes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_opening_hours"),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name="fk_opening_hours_service_id_service",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_opening_hours_service_id", "opening_hours", ["service_id"])
    op.create_index("ix_opening_hours_weekday", "opening_hours", ["weekday", "opens", "closes"])
    op.create_table(
        "service_revision",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_org", sa.String(50), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_revision"),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name="fk_service_revision_service_id_service",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_service_revision_service_id", "service_revision", ["service_id"])
    op.create_table(
        "search_word",
        sa.Column("word", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("word", name="pk_search_word"),
    )
    op.create_table(
        "service_uptake",
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("routed", sa.Integer(), nullable=False),
        sa.Column("signposted", sa.Integer(), nullable=False),
        sa.Column("last_referral_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("service_id", name="pk_service_uptake"),
    )
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "ALTER TABLE service ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(keywords, '')), 'B') || "
            "setweight(to_tsvector('english', coalesce(description, '')), 'C')) STORED"
        )
        op.execute("CREATE INDEX ix_service_search_vector ON service USING gin (search_vector)")
        op.execute(
            "CREATE INDEX ix_search_word_trigram ON search_word USING gin (word gin_trgm_ops)"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE service_fts USING fts5("
            "service_id UNINDEXED, name, keywords, description, "
            "tokenize = 'porter unicode61 remove_diacritics 2')"
        )
    _seed_needs()


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE service_fts")
    for table in (
        "service_uptake",
        "search_word",
        "service_revision",
        "opening_hours",
        "service_facet",
        "service_taxonomy",
        "taxonomy_term",
        "taxonomy",
        "service_at_location",
        "service",
        "location",
        "organization",
    ):
        op.drop_table(table)
