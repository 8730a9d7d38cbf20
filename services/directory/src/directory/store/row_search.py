"""A search on PostgreSQL: one statement over the search rows (``search_rows``). The
matching rows are found through the rows' indexes, one per service at its nearest location;
then the page, the count and the facet counts of those come back together, so that only a
page and the counts travel.

The statement is written as SQL text with bound values: it is made for every search, and
building it as an expression tree cost more CPU than the rest of the search's Python."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, Float, String, Uuid, column, text
from sqlalchemy.ext.asyncio import AsyncSession

from directory.domain.geo import EARTH_RADIUS_KM, box_around
from directory.store.facets import no_facets
from directory.store.search_terms import any_words, phrase_postgres
from directory.store.search_types import Criteria, Found, Hit

# A plan for these very values: a prepared statement's generic plan (chosen after a few
# runs) cannot tell a rare word from a common one or a wide radius from a narrow one, and
# was seen to read a whole box row by row, ten times slower.
CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")
_RESULT = (
    column("kind", String),
    column("service_id", Uuid),
    column("key", String),
    column("score", Float),
    column("d", Float),
    column("n", BigInteger),
)


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
    return out + _who(c, s) + _how(c, s) + _when(c, s)


def _who(c: Criteria, s: _Statement) -> list[str]:
    """Who the service is for: age, borough."""
    out = []
    if c.age is not None:
        age = s.bind(c.age, "integer")
        out.append(f"(minimum_age IS NULL OR minimum_age <= {age})")
        out.append(f"(maximum_age IS NULL OR maximum_age >= {age})")
    if c.minimum_age is not None:
        out.append(f"minimum_age >= {s.bind(float(c.minimum_age), 'float8')}")
    if c.maximum_age is not None:
        out.append(f"maximum_age <= {s.bind(float(c.maximum_age), 'float8')}")
    if c.borough is not None:
        # A service with no borough listed serves anyone.
        out.append(f"(facets @> {s.bind([f'borough:{c.borough}'], 'text[]')} OR NOT has_borough)")
    return out


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
    if wanted:
        out.append(f"facets @> {s.bind(wanted, 'text[]')}")
    if c.free is not None:
        out.append(f"free = {s.bind(c.free, 'boolean')}")
    if c.accepting is not None:
        out.append("capacity = 'accepting'" if c.accepting else "capacity <> 'accepting'")
    if c.capacity is not None:
        out.append(f"capacity = {s.bind(c.capacity)}")
    if c.referral_route is not None:
        out.append(f"referral_route = {s.bind(c.referral_route)}")
    return out


def _when(c: Criteria, s: _Statement) -> list[str]:
    """When it is open (at an instant, or on a day between times): opening times are rare in
    a search and many per service, so they are asked of their own table."""
    hours = "service_id IN (SELECT service_id FROM opening_hours WHERE {})"
    out = []
    if c.open_at is not None:
        minute = s.bind(c.open_at.minute, "integer")
        weekday = s.bind(c.open_at.weekday, "integer")
        out.append(hours.format(f"weekday = {weekday} AND opens <= {minute} AND closes > {minute}"))
    window = []
    if c.open_on is not None:
        window.append(f"weekday = {s.bind(c.open_on, 'integer')}")
    if c.open_from is not None:
        window.append(f"opens >= {s.bind(c.open_from, 'integer')}")
    if c.open_until is not None:
        window.append(f"closes <= {s.bind(c.open_until, 'integer')}")
    if window:
        out.append(hours.format(" AND ".join(window)))
    return out


def _matches(expression: str, s: _Statement) -> str:
    return f"search_vector @@ to_tsquery('english'::regconfig, {s.bind(expression)})"


def _text_conditions(c: Criteria, s: _Statement) -> list[str]:
    """Every word must match; every concept must be met by a tag (the terms' GIN index) or
    by its phrases (the tsvector's)."""
    assert c.plan is not None
    out = []
    if c.plan.words:
        out.append(_matches(" & ".join(f"{w}:*" for w in c.plan.words), s))
    for concept, term_ids in zip(c.plan.concepts, c.concept_term_ids, strict=True):
        matched = _matches(" | ".join(phrase_postgres(p) for p in concept.phrases), s)
        if term_ids:
            matched = f"(term_ids && {s.bind(list(term_ids), 'uuid[]')} OR {matched})"
        out.append(matched)
    return out


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
    """The radius's box on latitude and longitude (a b-tree index)."""
    assert c.near is not None
    assert c.radius_km is not None
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


def statement(c: Criteria, *, offset: int, limit: int, facets: bool) -> tuple[str, dict[str, Any]]:
    """The search's SQL and its values."""
    s = _Statement()
    conditions = _conditions(c, s)
    score = "CAST(0 AS real)"
    if c.plan is not None and not c.plan.is_empty:
        conditions += _text_conditions(c, s)
        query = s.bind(any_words(c.plan, True))
        score = f"ts_rank_cd(search_vector, to_tsquery('english'::regconfig, {query}))"
    distance = "CAST(NULL AS float8)"
    if c.near is not None:
        distance = _distance(c, s)
        if c.radius_km is not None:
            conditions += [*_box(c, s), f"{distance} <= {s.bind(c.radius_km, 'float8')}"]
    order = _order(c)
    # Every value is bound; the text is put together from this module's own fragments.
    parts = [
        f"""(SELECT 'hit' AS kind, service_id, CAST(name AS text) AS key, score, d,
            row_number() OVER (ORDER BY {order}) AS n
        FROM found ORDER BY {order}
        LIMIT {s.bind(limit, "bigint")} OFFSET {s.bind(offset, "bigint")})""",  # noqa: S608
        "SELECT 'total', NULL, NULL, NULL, NULL, count(*) FROM found",
    ]
    if facets:
        # Every facet value of a service once (the row holds them all), and its terms:
        # counted by id first, then named (tens of terms, not thousands of tags).
        parts += [
            """SELECT 'facet', NULL, value, NULL, NULL, count(*)
            FROM (SELECT unnest(facets) AS value FROM found) AS facet_values GROUP BY value""",
            """SELECT 'taxonomy', NULL, coalesce(t.code, CAST(t.id AS text)), NULL, NULL, tags.n
            FROM (SELECT unnest(term_ids) AS term_id, count(*) AS n FROM found GROUP BY 1) AS tags
            JOIN taxonomy_term t ON t.id = tags.term_id""",
        ]
    where = "\n        AND ".join(conditions)
    sql = f"""WITH found AS (
        SELECT DISTINCT ON (service_id) service_id, name, {score} AS score, {distance} AS d,
            facets, term_ids
        FROM service_search
        WHERE {where}
        ORDER BY service_id, d NULLS LAST
    )
    {" UNION ALL ".join(parts)}"""  # noqa: S608
    return sql, s.values


async def search_rows(
    session: AsyncSession, c: Criteria, *, offset: int, limit: int, facets: bool
) -> Found:
    sql, values = statement(c, offset=offset, limit=limit, facets=facets)
    await session.execute(CUSTOM_PLANS)
    rows = (await session.execute(text(sql).columns(*_RESULT), values)).all()
    total = 0
    hits: list[tuple[int, Hit]] = []
    counts = no_facets() if facets else {}
    for kind, service_id, key, score, d, n in rows:
        if kind == "hit":
            hits.append((n, Hit(service_id, key, float(score or 0), d)))
        elif kind == "total":
            total = n
        elif kind == "taxonomy":
            counts["taxonomy"][key] = n
        else:
            facet, _, value = key.partition(":")
            counts.setdefault(facet, {})[value] = n
    if not total:
        return Found(0, [])
    return Found(total, [hit for _, hit in sorted(hits, key=itemgetter(0))], counts)
