"""The taxonomy's version (PostgreSQL): a number that every statement changing what the
search reads of the taxonomy (a term's id, code, name, parent or synonyms) raises, in the
same transaction, whoever writes it. A search asks for it beside its page to know whether the
terms it planned with are still the taxonomy's (``store/search_prelude.py``); it asked for an
md5 digest of every term before, which took 0.6-0.7 ms of a search's execution with 41 terms
(on a slow day of the benchmark host) and grows with the taxonomy (an imported LGA list has
hundreds). An upsert that writes terms as they were (an import's every page) leaves it
alone. Nothing to do on SQLite, which reads the terms.

Revision ID: directory_0010
Revises: directory_0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "directory_0010"
down_revision: str | None = "directory_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What ``store.taxonomy.load_terms`` reads of a term; a statement that changes none of it
# (on any row) changes nothing a search plans with.
CHANGED = """
CREATE FUNCTION taxonomy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT FROM new_terms) THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT FROM old_terms) THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (SELECT id FROM new_terms EXCEPT SELECT id FROM old_terms)
            AND NOT EXISTS (
                SELECT FROM new_terms n JOIN old_terms o ON o.id = n.id
                WHERE (n.code, n.name, n.parent_id, CAST(n.synonyms AS text))
                    IS DISTINCT FROM (o.code, o.name, o.parent_id, CAST(o.synonyms AS text))
            ) THEN
            RETURN NULL;
        END IF;
    END IF;
    UPDATE taxonomy_version SET version = version + 1;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE taxonomy_version ("
        " only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),"
        " version bigint NOT NULL)"
    )
    op.execute("INSERT INTO taxonomy_version (version) VALUES (1)")
    op.execute(CHANGED)
    # A trigger with transition tables answers one kind of statement.
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_terms"),
        ("UPDATE", "OLD TABLE AS old_terms NEW TABLE AS new_terms"),
        ("DELETE", "OLD TABLE AS old_terms"),
    ):
        op.execute(
            f"CREATE TRIGGER taxonomy_{event.lower()} AFTER {event} ON taxonomy_term "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION taxonomy_changed()"
        )
    op.execute(
        "CREATE TRIGGER taxonomy_truncate AFTER TRUNCATE ON taxonomy_term "
        "FOR EACH STATEMENT EXECUTE FUNCTION taxonomy_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER taxonomy_{event} ON taxonomy_term")
    op.execute("DROP FUNCTION taxonomy_changed()")
    op.execute("DROP TABLE taxonomy_version")
