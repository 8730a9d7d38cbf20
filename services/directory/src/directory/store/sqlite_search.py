"""A search on SQLite (the embedded mode): one statement over the search rows
(``search_rows``), driven by FTS5 (the words) or the radius's box, reads the matching rows
with their facet values and terms; the nearest location, the order, the page and the facet
counts are worked out from them in memory (a prescriber's question matches tens to
hundreds of services), and bm25 is asked for the matching services only.

It answers as the normalised search (``search.normalised_search``) does, from one table."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import Float, String, Uuid, column, text
from sqlalchemy.ext.asyncio import AsyncSession

from directory.domain.geo import box_around, haversine_km
from directory.store.facets import no_facets
from directory.store.ranking import sort_key, sqlite_scores
from directory.store.search_clauses import age_conditions, offer_conditions, opening_conditions
from directory.store.search_rows import SEPARATOR
from directory.store.search_terms import fts_terms, phrase_sqlite
from directory.store.search_types import Criteria, Found, Hit

_ROW = (
    column("service_id", Uuid),
    column("name", String),
    column("latitude", Float),
    column("longitude", Float),
    column("facets", String),
    column("term_ids", String),
)
_LABELS = text("SELECT id, code FROM taxonomy_term").columns(
    column("id", Uuid), column("code", String)
)


class _Statement:
    """SQL text and its bound values, named in order."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"v{len(self.values)}"
        self.values[name] = value
        return f":{name}"


def _like(value: str) -> str:
    """``%value%`` with LIKE's wildcards taken literally (escape character ``/``)."""
    escaped = value.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _has(s: _Statement, facet: str, value: str) -> str:
    return f"instr(facets, {s.bind(f'{SEPARATOR}{facet}:{value}{SEPARATOR}')}) > 0"


def _tagged(s: _Statement, term_ids: Any) -> str:
    listed = ", ".join(s.bind(t.hex) for t in term_ids)
    return f"SELECT service_id FROM service_taxonomy WHERE term_id IN ({listed})"  # noqa: S608


def _matching(s: _Statement, expression: str) -> str:
    return f"SELECT service_id FROM service_fts WHERE service_fts MATCH {s.bind(expression)}"  # noqa: S608


def _conditions(c: Criteria, s: _Statement) -> list[str]:
    """Every filter as a condition on the row (``row_search._conditions`` for SQLite)."""
    out = [f"status = {s.bind('active' if c.active else 'withdrawn')}"]
    if c.name_contains:
        out.append(f"lower(name) LIKE {s.bind(_like(c.name_contains.lower()))} ESCAPE '/'")
    if c.term_ids:
        out.append(f"service_id IN ({_tagged(s, c.term_ids)})")
    out += age_conditions(c, s.bind, s.bind)
    if c.borough is not None:
        # A service with no borough listed serves anyone.
        out.append(f"({_has(s, 'borough', c.borough)} OR NOT has_borough)")
    for facet, value in (
        ("language", c.language),
        ("delivery", c.delivery),
        ("accessibility", c.accessibility),
    ):
        if value is not None:
            out.append(_has(s, facet, value))
    out += offer_conditions(c, s.bind, s.bind)
    return out + opening_conditions(c, s.bind)


def _text_conditions(c: Criteria, s: _Statement) -> list[str]:
    """Every word must match (FTS5); every concept must be met by a tag or its phrases."""
    assert c.plan is not None
    out = []
    if c.plan.words:
        out.append(f"service_id IN ({_matching(s, ' AND '.join(fts_terms(c.plan.words)))})")
    for concept, term_ids in zip(c.plan.concepts, c.concept_term_ids, strict=True):
        matched = _matching(s, " OR ".join(phrase_sqlite(p) for p in concept.phrases))
        if term_ids:
            matched = f"{_tagged(s, term_ids)} UNION {matched}"
        out.append(f"service_id IN ({matched})")
    return out


def statement(c: Criteria) -> tuple[str, dict[str, Any]]:
    """The matching rows (a service's every location, or none), unordered."""
    s = _Statement()
    conditions = _conditions(c, s)
    if c.plan is not None and not c.plan.is_empty:
        conditions += _text_conditions(c, s)
    if c.near is not None and c.radius_km is not None:
        box = box_around(c.near.latitude, c.near.longitude, c.radius_km)
        conditions.append(f"latitude BETWEEN {s.bind(box.south)} AND {s.bind(box.north)}")
        conditions.append(f"longitude BETWEEN {s.bind(box.west)} AND {s.bind(box.east)}")
    where = "\n    AND ".join(conditions)
    # Every value is bound; the text is put together from this module's own fragments.
    sql = f"""SELECT service_id, name, latitude, longitude, facets, term_ids
    FROM service_search
    WHERE {where}"""  # noqa: S608
    return sql, s.values


def _nearest(c: Criteria, rows: list[Any]) -> dict[uuid.UUID, tuple[float | None, Any]]:
    """Each service once, with its distance (at its nearest location, within the radius if
    one is given; None where it cannot be told) and the row it came from."""
    near, radius = c.near, c.radius_km
    out: dict[uuid.UUID, tuple[float | None, Any]] = {}
    for row in rows:
        d = None
        if near is not None and row.latitude is not None and row.longitude is not None:
            d = haversine_km(near.latitude, near.longitude, row.latitude, row.longitude)
        if radius is not None and (d is None or d > radius):
            continue
        seen = out.get(row.service_id)
        if seen is None or (d is not None and (seen[0] is None or d < seen[0])):
            out[row.service_id] = (d, row)
    return out


async def _facet_counts(session: AsyncSession, rows: list[Any]) -> dict[str, dict[str, int]]:
    values: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    for row in rows:
        values.update(row.facets.split(SEPARATOR)[1:-1])
        terms.update(row.term_ids.split(SEPARATOR)[1:-1])
    out = no_facets()
    for key, n in values.items():
        facet, _, value = key.partition(":")
        out.setdefault(facet, {})[value] = n
    if terms:
        labels = {i.hex: code or str(i) for i, code in await session.execute(_LABELS)}
        out["taxonomy"] = {labels[t]: n for t, n in terms.items() if t in labels}
    return out


async def search_rows_sqlite(
    session: AsyncSession, c: Criteria, *, offset: int, limit: int, facets: bool
) -> Found:
    sql, values = statement(c)
    rows = list((await session.execute(text(sql).columns(*_ROW), values)).all())
    nearest = _nearest(c, rows)
    if not nearest:
        return Found(0, [])
    scores: dict[uuid.UUID, float] = {}
    if c.plan is not None and not c.plan.is_empty:
        scores = await sqlite_scores(session, c.plan, list(nearest))
    hits = [Hit(i, row.name, scores.get(i, 0.0), d) for i, (d, row) in nearest.items()]
    hits.sort(key=sort_key(c))
    found = Found(len(hits), hits[offset : offset + limit])
    if facets:
        found.facets = await _facet_counts(session, [row for _, row in nearest.values()])
    return found
