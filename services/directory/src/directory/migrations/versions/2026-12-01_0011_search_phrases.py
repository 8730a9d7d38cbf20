"""Search rows (PostgreSQL): each multi-word phrase of the taxonomy (a term's name or synonym:
"lunch club", "meals on wheels") becomes a lexeme of the rows whose text holds it,
``#phrase:<its words>``, so that a need met by a phrase is asked of the GIN index exactly.
Asked as words in sequence (``lunch <-> club``), the index found every row with both words
and each was read to check their positions: "lunch club" found 6,295 rows of the benchmark's
100,000 services of which 5,162 failed that check.

``search_phrase`` holds the phrases, each with the tsquery that decides which rows carry it.
The taxonomy's statement triggers (directory_0010) keep it and the rows' lexemes up to date in
the transaction that changes the taxonomy, whoever writes it; a search reads the phrases
with the terms (``store.taxonomy``) and asks the lexeme only of the phrases the rows carry.

The tags' lexemes become ``#term:<id>`` (were ``term:<id>``): a query word is a prefix
(``ter:*``), and "term" in "long term conditions" matched every tagged row. No query word
starts with ``#``. Nothing to do on SQLite.

Revision ID: directory_0011
Revises: directory_0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "directory_0011"
down_revision: str | None = "directory_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A name's words as ``domain.search.tokens`` makes them, joined by a space: lower case,
# apostrophes dropped, every other run of characters but a-z and 0-9 a break.
TOKENS = """
CREATE FUNCTION search_tokens(value text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT btrim(regexp_replace(
        replace(replace(lower(value), '''', ''), E'\\u2019', ''), '[^a-z0-9]+', ' ', 'g'))
$$
"""

# The phrases of more than one word of ``store.taxonomy.Terms.concepts``: every term's name
# and, for a term whose name has words, its synonyms.
WANTED = """
CREATE FUNCTION search_phrases_wanted() RETURNS SETOF text LANGUAGE sql STABLE AS $$
    WITH named AS (
        SELECT search_tokens(name) AS name, synonyms FROM taxonomy_term
    )
    SELECT phrase FROM (
        SELECT name AS phrase FROM named
        UNION
        SELECT search_tokens(synonym) FROM named,
            json_array_elements_text(CASE WHEN json_typeof(CAST(synonyms AS json)) = 'array'
                THEN CAST(synonyms AS json) ELSE '[]' END) AS synonym
        WHERE name <> ''
    ) AS phrases
    WHERE position(' ' IN phrase) > 0
$$
"""

# The phrases made again from the taxonomy: a phrase gone is taken out of the rows, a new one
# put in the rows whose text holds it. The search rows are locked against other writers
# first (they wait for this transaction; this waits for theirs), so a row built meanwhile
# cannot miss a phrase; each statement after the lock sees every row committed before it.
REFRESH = """
CREATE FUNCTION search_phrases_refresh() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    gone text;
    added text;
BEGIN
    IF NOT EXISTS (SELECT search_phrases_wanted() EXCEPT SELECT phrase FROM search_phrase)
        AND NOT EXISTS (SELECT phrase FROM search_phrase EXCEPT SELECT search_phrases_wanted())
    THEN
        RETURN;
    END IF;
    LOCK TABLE service_search IN SHARE ROW EXCLUSIVE MODE;
    FOR gone IN SELECT phrase FROM search_phrase EXCEPT SELECT search_phrases_wanted() LOOP
        DELETE FROM search_phrase WHERE phrase = gone;
        UPDATE service_search SET search_vector = ts_delete(search_vector, '#phrase:' || gone)
        WHERE search_vector @@ CAST(quote_literal('#phrase:' || gone) AS tsquery);
    END LOOP;
    FOR added IN SELECT search_phrases_wanted() EXCEPT SELECT phrase FROM search_phrase LOOP
        INSERT INTO search_phrase (phrase, query)
        VALUES (added, to_tsquery('english', replace(added, ' ', ' <-> ')));
        UPDATE service_search
        SET search_vector = search_vector || array_to_tsvector(ARRAY['#phrase:' || added])
        WHERE search_vector @@ to_tsquery('english', replace(added, ' ', ' <-> '));
    END LOOP;
END
$$
"""

# directory_0010's, which now also makes the phrases again.
CHANGED = """
CREATE OR REPLACE FUNCTION taxonomy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
    PERFORM search_phrases_refresh();
    RETURN NULL;
END
$$
"""
# directory_0010's, as it was.
CHANGED_BEFORE = CHANGED.replace("    PERFORM search_phrases_refresh();\n", "")

# Frozen copies of what the store writes (store/search_rows.py): the listing's words, its
# terms and the phrases its words hold; before, its words and its terms.
VECTOR = """s.search_vector
    || array_to_tsvector(ARRAY(SELECT '#term:' || t FROM unnest(r.term_ids) AS t))
    || array_to_tsvector(ARRAY(
        SELECT '#phrase:' || p.phrase FROM search_phrase p WHERE s.search_vector @@ p.query))"""
VECTOR_BEFORE = """s.search_vector
    || array_to_tsvector(ARRAY(SELECT 'term:' || t FROM unnest(r.term_ids) AS t))"""


def _rewrite(vector: str) -> None:
    """Every search row with its tsvector made again (``vector``), in the order of the rows'
    cells (directory_0009). Not an UPDATE: this transaction would still see the rows' old
    versions, and a ``CLUSTER`` in it copy them too (the table doubled on the benchmark's
    100,000 services, and searches read both); rows written into the emptied table have
    none."""
    op.execute("CREATE TEMPORARY TABLE rebuilt AS SELECT * FROM service_search")
    op.execute(
        f"UPDATE rebuilt r SET search_vector = {vector} FROM service s WHERE s.id = r.service_id"  # noqa: S608
    )
    op.execute("TRUNCATE service_search")
    op.execute("INSERT INTO service_search SELECT * FROM rebuilt ORDER BY cells")
    op.execute("DROP TABLE rebuilt")
    # The indexes made again from the rows (the GIN index comes out smaller than one grown
    # row by row), and the table marked in order.
    op.execute("CLUSTER service_search")
    op.execute("ANALYZE service_search")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE TABLE search_phrase (phrase text PRIMARY KEY, query tsquery NOT NULL)")
    op.execute(TOKENS)
    op.execute(WANTED)
    op.execute(REFRESH)
    op.execute(CHANGED)
    op.execute(
        "INSERT INTO search_phrase (phrase, query) SELECT phrase, "
        "to_tsquery('english', replace(phrase, ' ', ' <-> ')) "
        "FROM search_phrases_wanted() AS phrase"
    )
    _rewrite(VECTOR)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CHANGED_BEFORE)
    _rewrite(VECTOR_BEFORE)
    op.execute("DROP FUNCTION search_phrases_refresh()")
    op.execute("DROP FUNCTION search_phrases_wanted()")
    op.execute("DROP FUNCTION search_tokens(text)")
    op.execute("DROP TABLE search_phrase")
