"""A search on PostgreSQL: one statement over the search rows (``search_rows``). The
matching rows are found through the rows' indexes, one per service at its nearest location;
then the page, the count and the facet counts of those come back together, so that only a
page and the counts travel.

The statement is written as SQL text with bound values: it is made for every search, and
building it as an expression tree cost more CPU than the rest of the search's Python."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ColumnClause, Float, String, Uuid, column, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TextualSelect

from carethread.db import UtcDateTime
from directory.domain.geo import EARTH_RADIUS_KM, box_around, cells_around
from directory.domain.search import Concept
from directory.store.facets import no_facets
from directory.store.results import Place, Summary
from directory.store.search_clauses import age_conditions, offer_conditions, opening_conditions
from directory.store.search_rows import PHRASE_LEXEME, TAG_LEXEME
from directory.store.search_terms import any_words, phrase_postgres
from directory.store.search_types import Criteria, Details, Found, Hit, Seen
from directory.store.taxonomy import VERSION_SQL, Terms, load_terms

_RESULT = (
    column("kind", String),
    column("service_id", Uuid),
    column("key", String),
    column("score", Float),
    column("d", Float),
    column("n", BigInteger),
)
# What a page of results shows of each hit (``with_details``), NULL on the other rows.
_DETAILS: tuple[ColumnClause[Any], ...] = (
    column("organization_name", String),
    column("description", String),
    column("boroughs", JSON),
    column("languages", JSON),
    column("free", Boolean),
    column("capacity", String),
    column("referral_route", String),
    column("last_verified_at", UtcDateTime),
    # Lists as the driver reads them: an ARRAY type would process every item again.
    column("term_ids"),  # named by the taxonomy read before the search (``Terms``)
    # (name, postcode, latitude, longitude) of each located place, as records.
    column("places"),
)
# The same, in SQL: ``store.results`` (summaries, labels, places) for the page's services,
# in the order those read them. The listing's boroughs and languages from one reading of
# its document (``->`` twice read it twice: 17 µs a row against 11).
_DETAILS_SQL = """, o.name, s.description, listed.boroughs, listed.languages, s.free,
    CAST(s.capacity AS text), CAST(s.referral_route AS text), s.last_verified_at,
    page.term_ids,
    {places}
    FROM page JOIN service s ON s.id = page.service_id
    JOIN organization o ON o.id = s.organization_id
    CROSS JOIN LATERAL json_to_record(s.document) AS listed(boroughs json, languages json)"""
# One subquery for the places (four, a column each, cost as much planning and reading again).
_PLACES_SQL = """ARRAY(SELECT ROW(CAST(l.name AS text), CAST(l.postcode AS text), l.latitude,
        l.longitude)
    FROM service_at_location sal JOIN location l ON l.id = sal.location_id
    WHERE sal.service_id = page.service_id AND l.latitude IS NOT NULL
        AND l.longitude IS NOT NULL ORDER BY l.name, l.id)"""


class _Statement:
    """SQL text and its bound values, named in order."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value: Any, cast: str | None = None) -> str:
        name = f"v{len(self.values)}"
        self.values[name] = value
        return f"CAST(:{name} AS {cast})" if cast else f":{name}"


def _like(value: str) -> str:
    """``%value%`` with LIKE's wildcards taken literally (escape character ``/``)."""
    escaped = value.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _conditions(c: Criteria, s: _Statement) -> list[str]:
    """Every filter as a condition on the row."""
    out = [f"status = {s.bind('active' if c.active else 'withdrawn')}"]
    if c.name_contains:
        out.append(f"lower(name) LIKE {s.bind(_like(c.name_contains.lower()))} ESCAPE '/'")
    if c.term_ids:
        out.append(f"term_ids && {s.bind(list(c.term_ids), 'uuid[]')}")
    return (
        out
        + _who(c, s)
        + _how(c, s)
        + opening_conditions(c, lambda value: s.bind(value, "integer"))
    )


def _who(c: Criteria, s: _Statement) -> list[str]:
    """Who the service is for: age, borough."""
    out = age_conditions(
        c, lambda value: s.bind(value, "integer"), lambda value: s.bind(value, "float8")
    )
    if c.borough is not None:
        # A service with no borough listed serves anyone.
        out.append(f"(facets @> {s.bind([f'borough:{c.borough}'], 'text[]')} OR NOT has_borough)")
    return out


# Facet values nearly every listing has (English, in a directory in England). Asked of the
# search rows' GIN index beside the words and the cells, such a value's posting list (every
# row) costs more to merge than it narrows; checked on the rows found it costs little. On
# the benchmark's 100,000 services the broadest questions in English took up to 8% longer
# with it in the index.
COMMON_FACETS = frozenset({"language:en"})


def _how(c: Criteria, s: _Statement) -> list[str]:
    """How it is delivered and taken up: language, mode, access, cost, capacity, route."""
    out = []
    wanted = [
        f"{facet}:{value}"
        for facet, value in (
            ("language", c.language),
            ("delivery", c.delivery),
            ("accessibility", c.accessibility),
        )
        if value is not None
    ]
    rare = [value for value in wanted if value not in COMMON_FACETS]
    common = [value for value in wanted if value in COMMON_FACETS]
    if rare:
        out.append(f"facets @> {s.bind(rare, 'text[]')}")
    if common:
        # IS TRUE: checked on the rows the index found, not asked of the index.
        out.append(f"(facets @> {s.bind(common, 'text[]')}) IS TRUE")
    out += offer_conditions(c, lambda value: s.bind(value, "boolean"), s.bind)
    return out


def _matches(expression: str, s: _Statement) -> str:
    return f"search_vector @@ to_tsquery('english'::regconfig, {s.bind(expression)})"


def _text_conditions(c: Criteria, s: _Statement) -> list[str]:
    """Every word must match; every concept must be met by a tag or by its phrases. The
    row's tsvector holds its tags and the taxonomy's phrases its words hold as lexemes
    (``TAG_LEXEME``, ``PHRASE_LEXEME``), so each is one question of the tsvector's index,
    which the radius's cells share; a phrase the rows do not carry (one word, or new since
    the taxonomy was read) is asked as words in sequence."""
    assert c.plan is not None
    out = []
    if c.plan.words:
        out.append(_matches(" & ".join(f"{w}:*" for w in c.plan.words), s))
    for concept, term_ids in zip(c.plan.concepts, c.concept_term_ids, strict=True):
        out.append(f"search_vector @@ ({_need(concept, term_ids, c.indexed_phrases, s)})")
    return out


def _need(
    concept: Concept,
    term_ids: Sequence[uuid.UUID],
    indexed: frozenset[tuple[str, ...]],
    s: _Statement,
) -> str:
    """A need's tsquery: its terms' and indexed phrases' lexemes (tsquery text: ids, and
    phrases' words, a-z and 0-9, need no escaping), or its other phrases as words."""
    lexemes = [f"'{TAG_LEXEME}{t}'" for t in term_ids]
    lexemes += [f"'{PHRASE_LEXEME}{' '.join(p)}'" for p in concept.phrases if p in indexed]
    asked = [phrase_postgres(p) for p in concept.phrases if p not in indexed]
    queries = []
    if asked:
        queries.append(f"to_tsquery('english'::regconfig, {s.bind(' | '.join(asked))})")
    if lexemes:
        queries.append(f"CAST({s.bind(' | '.join(lexemes))} AS tsquery)")
    return " || ".join(queries)


def _distance(c: Criteria, s: _Statement) -> str:
    """Haversine, in km, from the point searched."""
    assert c.near is not None
    lat0 = s.bind(c.near.latitude, "float8")
    lon0 = s.bind(c.near.longitude, "float8")
    half_dlat = f"sin(radians(latitude - {lat0}) / 2.0)"
    half_dlon = f"sin(radians(longitude - {lon0}) / 2.0)"
    a = (
        f"{half_dlat} * {half_dlat} + cos(radians({lat0})) * cos(radians(latitude)) "
        f"* {half_dlon} * {half_dlon}"
    )
    return f"{s.bind(2 * EARTH_RADIUS_KM, 'float8')} * asin(sqrt({a}))"


def _box(c: Criteria, s: _Statement) -> list[str]:
    """The grid cells reaching into the radius's circle (in the tsvector's index), or for a
    wide radius its box on latitude and longitude (a b-tree index)."""
    assert c.near is not None
    assert c.radius_km is not None
    cells = cells_around(c.near.latitude, c.near.longitude, c.radius_km)
    if cells is not None:
        return [f"cells && {s.bind(cells, 'integer[]')}"]
    box = box_around(c.near.latitude, c.near.longitude, c.radius_km)
    return [
        f"latitude BETWEEN {s.bind(box.south, 'float8')} AND {s.bind(box.north, 'float8')}",
        f"longitude BETWEEN {s.bind(box.west, 'float8')} AND {s.bind(box.east, 'float8')}",
    ]


def _order(c: Criteria) -> str:
    """``search._sort_key`` in SQL; names in code point order, as Python sorts them."""
    name = 'name COLLATE "C"'
    if c.sort == "distance" and c.near is not None:
        return f"d NULLS LAST, score DESC, {name}, service_id"
    if c.sort == "name":
        return f"{name}, d NULLS LAST, service_id"
    return f"score DESC, d NULLS LAST, {name}, service_id"


def _check(words: Sequence[str], s: _Statement, others: str) -> str:
    """A row of what the search's words were planned with, as this statement sees it: the
    taxonomy's version, then those of ``words`` the listings use, after a space each."""
    asked = s.bind(sorted(set(words)), "text[]")
    # Every value is bound; the text is this module's and the taxonomy's version.
    listed = f"ARRAY(SELECT word FROM search_word WHERE word = ANY({asked}) ORDER BY word)"  # noqa: S608
    seen = f"array_to_string(array_prepend({VERSION_SQL}, {listed}), ' ')"
    return f"SELECT 'check', NULL, {seen}, NULL, NULL, NULL{others}"


def statement(
    c: Criteria,
    *,
    offset: int,
    limit: int,
    facets: bool,
    details: bool = False,
    check: Sequence[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The search's SQL and its values; with ``details``, each hit's row also carries what
    a page of results shows of it (``_DETAILS``); with ``check`` (the query's words), a row
    says what the words were planned with as the statement sees it (``Found.seen``)."""
    s = _Statement()
    conditions = _conditions(c, s)
    score = "CAST(0 AS real)"
    rough = None
    if c.plan is not None and not c.plan.is_empty:
        conditions += _text_conditions(c, s)
        query = f"to_tsquery('english'::regconfig, {s.bind(any_words(c.plan, True))})"
        score = f"ts_rank_cd(search_vector, {query})"
        if _by_relevance(c):
            rough = f"ts_rank(search_vector, {query})"
    distance = "CAST(NULL AS float8)"
    if c.near is not None:
        distance = _distance(c, s)
        if c.radius_km is not None:
            conditions += [*_box(c, s), f"{distance} <= {s.bind(c.radius_km, 'float8')}"]
    order = _order(c)
    hit = "SELECT 'hit' AS kind, page.service_id, CAST(page.name AS text) AS key, score, d, n"
    if details:
        hit += _DETAILS_SQL.format(places=_PLACES_SQL if c.near is not None else "NULL")
    else:
        hit += " FROM page"
    others = ", NULL" * len(_DETAILS) if details else ""
    # Every value is bound; the text is put together from this module's own fragments.
    alike = ""
    if not facets:
        total = f"SELECT 'total', NULL, NULL, NULL, NULL, count(*){others} FROM found"  # noqa: S608
        parts = [hit, total]
    else:
        # Every facet value of a service once (the row holds them all), and its terms:
        # the rows alike (most share their facet values and terms with many others)
        # counted together first, in one pass over the matches, which also gives the total;
        # then their values, and their terms by id (named by the caller's ``Terms``).
        alike = """, alike AS (
        SELECT facets, term_ids, count(*) AS n FROM found GROUP BY facets, term_ids
    )"""
        counted = "CAST(sum(alike.n) AS bigint)"
        parts = [
            hit,
            f"SELECT 'total', NULL, NULL, NULL, NULL, {counted}{others} FROM alike",  # noqa: S608
            f"""SELECT 'facet', NULL, value, NULL, NULL, {counted}{others}
            FROM alike, unnest(alike.facets) AS value
            GROUP BY value""",  # noqa: S608
            f"""SELECT 'taxonomy', NULL, CAST(term_id AS text), NULL, NULL, {counted}{others}
            FROM alike, unnest(alike.term_ids) AS term_id
            GROUP BY term_id""",  # noqa: S608
        ]
    if check is not None:
        parts.append(_check(check, s, others))
    where = "\n        AND ".join(conditions)
    ranked = "found"
    if rough is None:
        scored = f"{score} AS score"
        candidates = ""
    else:
        # Where the row is, not its tsvector: the candidates' tsvectors are read again
        # from their rows (a few hundred), not carried through the sort of every match.
        scored = f"{rough} AS rough, ctid AS row_at"
        candidates = _candidates(c, s, score, offset + limit)
        ranked = "ranked"
    # Every value is bound; the text is put together from this module's own fragments.
    sql = f"""WITH found AS (
        SELECT DISTINCT ON (service_id) service_id, name, {scored}, {distance} AS d,
            facets, term_ids
        FROM service_search
        WHERE {where}
        ORDER BY service_id, d NULLS LAST
    ){candidates}, page AS (
        SELECT service_id, name, score, d, term_ids, row_number() OVER (ORDER BY {order}) AS n
        FROM {ranked} ORDER BY {order}
        LIMIT {s.bind(limit, "bigint")} OFFSET {s.bind(offset, "bigint")}
    ){alike}
    {" UNION ALL ".join(parts)}"""  # noqa: S608
    return sql, s.values


# Relevance (``ts_rank_cd``, cover density) costs 5-10 µs per matching row; a broad search
# matches thousands. Ordered by relevance, a page is chosen from candidates only: the best
# by ``ts_rank`` (the same words' weights and frequency, a fraction of the cost), and the
# nearest (equally relevant services come nearest first, and ``ts_rank`` does not tie where
# ``ts_rank_cd`` does), each at least ``RANKED_AT_LEAST`` and four pages' worth. With no
# more matches than that, every match is a candidate and the order is exact. On the
# benchmark's 100,000 services, 300 prescribers' questions (20 a page) got the page the
# exact order gives with 80 candidates of each kind (64 missed one page, 32 five), so a
# page of 20 or fewer ranks at most 160 rows (with 128 each, up to 256).
RANKED_AT_LEAST = 64


def _by_relevance(c: Criteria) -> bool:
    """Whether the order is by relevance first (``_order``)."""
    return not (c.sort == "name" or (c.sort == "distance" and c.near is not None))


def _candidates(c: Criteria, s: _Statement, score: str, wanted: int) -> str:
    """The CTEs ``candidates`` and ``ranked`` (with their ``ts_rank_cd``), after ``found``."""
    each = s.bind(max(RANKED_AT_LEAST, 4 * wanted), "bigint")
    # Every value is bound; the text is put together from this module's own fragments.
    best = f"""(SELECT service_id, name, d, term_ids, row_at FROM found
            ORDER BY rough DESC, d NULLS LAST, name COLLATE "C", service_id LIMIT {each})"""  # noqa: S608
    if c.near is not None:
        best += f"""
        UNION
        (SELECT service_id, name, d, term_ids, row_at FROM found
            ORDER BY d NULLS LAST, rough DESC, name COLLATE "C", service_id LIMIT {each})"""  # noqa: S608
    # A candidate's row, found again by where it is (ctid: the same snapshot, the same row).
    return f""", candidates AS (
        {best}
    ), ranked AS (
        SELECT c.service_id, c.name, {score} AS score, c.d, c.term_ids
        FROM candidates c JOIN service_search r ON r.ctid = c.row_at
    )"""  # noqa: S608


@functools.lru_cache(maxsize=512)
def _typed(sql: str, details: bool) -> TextualSelect:
    """The statement with its result's types. Kept by its text: searches of the same shape
    (which filters, how many words and needs) share it, and making it parses the text for
    its bound names each time (about 4% of a search's time in this process)."""
    return text(sql).columns(*((*_RESULT, *_DETAILS) if details else _RESULT))


def _details(
    row: Any, label_of: Callable[[uuid.UUID], str]
) -> tuple[Summary, list[str], list[Place]]:
    places = [Place(*place) for place in row.places or ()]
    summary = Summary(
        row.service_id,
        row.key,
        row.organization_name,
        row.description,
        row.boroughs or [],
        row.languages or [],
        row.free,
        row.capacity,
        row.referral_route,
        row.last_verified_at,
    )
    return summary, sorted(label_of(t) for t in row.term_ids or ()), places


async def search_rows(
    session: AsyncSession,
    c: Criteria,
    *,
    offset: int,
    limit: int,
    facets: bool,
    details: bool = False,
    terms: Terms | None = None,
    check: Sequence[str] | None = None,
) -> Found:
    """``terms``: the taxonomy as this search read it, which names the terms of the facet
    counts and of the page's details (read here if not given). ``check``: the query's
    words, whose reading the statement makes again (``Found.seen``)."""
    if terms is None and (facets or details):
        terms = await load_terms(session)
    label_of: Callable[[uuid.UUID], str] = terms.label_of if terms is not None else str
    sql, values = statement(
        c, offset=offset, limit=limit, facets=facets, details=details, check=check
    )
    rows = (await session.execute(_typed(sql, details), values)).all()
    total = 0
    hits: list[tuple[int, Hit]] = []
    shown = Details({}, {}, {}) if details else None
    counts = no_facets() if facets else {}
    seen = None
    for row in rows:
        kind, service_id, key, score, d, n = row[:6]
        if kind == "hit":
            hits.append((n, Hit(service_id, key, float(score or 0), d)))
            if shown is not None:
                summary, labels, places = _details(row, label_of)
                shown.summaries[service_id] = summary
                shown.labels[service_id] = labels
                if c.near is not None:
                    shown.places[service_id] = places
        elif kind == "total":
            total = n
        elif kind == "taxonomy":
            counts["taxonomy"][label_of(uuid.UUID(key))] = n
        elif kind == "check":
            version, *listed = key.split(" ")
            seen = Seen(version, frozenset(listed))
        else:
            facet, _, value = key.partition(":")
            counts.setdefault(facet, {})[value] = n
    if not total:
        return Found(0, [], seen=seen)
    ordered = [hit for _, hit in sorted(hits, key=itemgetter(0))]
    return Found(total, ordered, counts, shown, seen)
