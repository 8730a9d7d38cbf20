"""The search query: filters, full text (FTS5 on SQLite, tsvector on PostgreSQL), true
(haversine) distance, facet counts and a page, as a handful of SQL statements."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    FromClause,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import on_postgres
from directory.domain.geo import EARTH_RADIUS_KM, box_around, haversine_km
from directory.domain.search import QueryPlan
from directory.store.facets import facet_counts
from directory.store.ranking import FTS, sort_key, sqlite_ranked, sqlite_scores
from directory.store.row_search import search_rows
from directory.store.search_terms import any_words as _any_words
from directory.store.search_terms import fts_terms as _fts_terms
from directory.store.search_terms import phrase_postgres as _phrase_postgres
from directory.store.search_terms import phrase_sqlite as _phrase_sqlite
from directory.store.search_types import Criteria, Found, Hit, Point
from directory.store.sqlite_search import search_rows_sqlite
from directory.store.tables import (
    LocationRow,
    OpeningHoursRow,
    ServiceAtLocationRow,
    ServiceFacetRow,
    ServiceRow,
    ServiceTaxonomyRow,
)
from directory.store.taxonomy import Terms

S = ServiceRow.__table__
F = ServiceFacetRow.__table__
MATERIALISE_UP_TO = 10_000  # matching rows read into memory for ordering, counting and facets
# PostgreSQL text search configuration: English stemming and stop words.
ENGLISH: ColumnElement[Any] = literal_column("'english'::regconfig")


def haversine_sql(lat: Any, lon: Any, point: Point) -> ColumnElement[float]:
    """Great-circle distance in km from ``point``, in SQL both databases evaluate."""
    lat0, lon0 = bindparam("lat0", point.latitude, Float), bindparam("lon0", point.longitude, Float)
    two = literal(2.0, Float)  # a float: an integer literal would make PostgreSQL use numeric
    half_dlat = func.sin(func.radians(lat - lat0) / two)
    half_dlon = func.sin(func.radians(lon - lon0) / two)
    a = (
        half_dlat * half_dlat
        + func.cos(func.radians(lat0)) * func.cos(func.radians(lat)) * half_dlon * half_dlon
    )
    return literal(2 * EARTH_RADIUS_KM, Float) * func.asin(func.sqrt(a))


def _box(c: Criteria) -> list[ColumnElement[bool]]:
    """A box around the radius's circle, so the index on latitude/longitude narrows it."""
    assert c.near is not None
    assert c.radius_km is not None
    L = LocationRow.__table__
    box = box_around(c.near.latitude, c.near.longitude, c.radius_km)
    return [
        L.c.latitude.between(box.south, box.north),
        L.c.longitude.between(box.west, box.east),
    ]


def _distances(c: Criteria) -> FromClause:
    """Each service's nearest location to the point (within the radius, if one is given)."""
    assert c.near is not None
    L = LocationRow.__table__
    SAL = ServiceAtLocationRow.__table__
    distance = haversine_sql(L.c.latitude, L.c.longitude, c.near)
    query = (
        select(SAL.c.service_id, func.min(distance).label("distance_km"))
        .join(L, L.c.id == SAL.c.location_id)
        .where(L.c.latitude.is_not(None), L.c.longitude.is_not(None))
        .group_by(SAL.c.service_id)
    )
    if c.radius_km is not None:
        query = query.where(*_box(c), distance <= c.radius_km)
    return query.subquery("nearest")


def _sqlite_matches(expression: str) -> Select[Any]:
    """Ids of the services whose text matches (FTS5)."""
    return select(FTS.c.service_id).where(
        literal_column("service_fts").op("MATCH")(literal(expression))
    )


def _postgres_matches(expression: str) -> Select[Any]:
    """Ids of the services whose text matches (the tsvector's GIN index)."""
    matched = S.alias("matched")
    return select(matched.c.id).where(
        literal_column("matched.search_vector").op("@@")(
            func.to_tsquery(ENGLISH, literal(expression))
        )
    )


def _tagged_ids(term_ids: Sequence[uuid.UUID]) -> Select[Any]:
    ST = ServiceTaxonomyRow.__table__
    return select(ST.c.service_id).where(ST.c.term_id.in_(list(term_ids)))


def _tagged(term_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    return S.c.id.in_(_tagged_ids(term_ids))


def _text_conditions(c: Criteria, postgres: bool) -> list[ColumnElement[bool]]:
    """Every word must match; every concept must be met by a tag or by its words. Each is a
    set of ids from an index (a UNION for tag-or-words), not a test run on every row."""
    assert c.plan is not None
    matches = _postgres_matches if postgres else _sqlite_matches
    out: list[ColumnElement[bool]] = []
    if c.plan.words:
        if postgres:
            out.append(S.c.id.in_(matches(" & ".join(f"{w}:*" for w in c.plan.words))))
        else:
            out.append(S.c.id.in_(matches(" AND ".join(_fts_terms(c.plan.words)))))
    for concept, term_ids in zip(c.plan.concepts, c.concept_term_ids, strict=True):
        phrase = _phrase_postgres if postgres else _phrase_sqlite
        joined = (" | " if postgres else " OR ").join(phrase(p) for p in concept.phrases)
        out.append(S.c.id.in_(union(_tagged_ids(term_ids), matches(joined))))
    return out


def _facet(facet: str, value: str) -> ColumnElement[bool]:
    # Checked per candidate (a primary key lookup): "language=en" holds for nearly every
    # service, and as a set of ids it would lead the query instead of the words.
    return exists().where(F.c.service_id == S.c.id, F.c.facet == facet, F.c.value == value)


def _who_filters(c: Criteria) -> list[ColumnElement[bool]]:
    """Who the service is for: age, borough."""
    out: list[ColumnElement[bool]] = []
    if c.age is not None:
        out.append(or_(S.c.minimum_age.is_(None), S.c.minimum_age <= c.age))
        out.append(or_(S.c.maximum_age.is_(None), S.c.maximum_age >= c.age))
    if c.minimum_age is not None:
        out.append(S.c.minimum_age >= c.minimum_age)
    if c.maximum_age is not None:
        out.append(S.c.maximum_age <= c.maximum_age)
    if c.borough is not None:
        # A service with no borough listed serves anyone.
        any_borough = exists().where(F.c.service_id == S.c.id, F.c.facet == "borough")
        out.append(or_(_facet("borough", c.borough), ~any_borough))
    return out


def _how_filters(c: Criteria) -> list[ColumnElement[bool]]:
    """How it is delivered and taken up: language, mode, access, cost, capacity, route."""
    out = [
        _facet(facet, value)
        for facet, value in (
            ("language", c.language),
            ("delivery", c.delivery),
            ("accessibility", c.accessibility),
        )
        if value is not None
    ]
    if c.free is not None:
        out.append(S.c.free == c.free)
    if c.accepting is not None:
        out.append((S.c.capacity == "accepting") if c.accepting else (S.c.capacity != "accepting"))
    if c.capacity is not None:
        out.append(S.c.capacity == c.capacity)
    if c.referral_route is not None:
        out.append(S.c.referral_route == c.referral_route)
    return out


def _when_filters(c: Criteria) -> list[ColumnElement[bool]]:
    """When it is open: at an instant, or (ORUK) on a day between times."""
    hours = OpeningHoursRow.__table__
    out: list[ColumnElement[bool]] = []
    if c.open_at is not None:
        out.append(
            S.c.id.in_(
                select(hours.c.service_id).where(
                    hours.c.weekday == c.open_at.weekday,
                    hours.c.opens <= c.open_at.minute,
                    hours.c.closes > c.open_at.minute,
                )
            )
        )
    window: list[ColumnElement[bool]] = []
    if c.open_on is not None:
        window.append(hours.c.weekday == c.open_on)
    if c.open_from is not None:
        window.append(hours.c.opens >= c.open_from)
    if c.open_until is not None:
        window.append(hours.c.closes <= c.open_until)
    if window:
        out.append(S.c.id.in_(select(hours.c.service_id).where(*window)))
    return out


def _filters(c: Criteria) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = [S.c.status == ("active" if c.active else "withdrawn")]
    if c.name_contains:
        out.append(func.lower(S.c.name).contains(c.name_contains.lower(), autoescape=True))
    if c.term_ids:
        out.append(_tagged(c.term_ids))
    return out + _who_filters(c) + _how_filters(c) + _when_filters(c)


def _postgres_score(plan: QueryPlan) -> ColumnElement[float]:
    return func.ts_rank_cd(
        literal_column("service.search_vector"),
        func.to_tsquery(ENGLISH, literal(_any_words(plan, True))),
    )


def _located(c: Criteria, conditions: list[ColumnElement[bool]]) -> FromClause:
    """The services with their locations (one row each), inside the radius's box if one is
    given; the true distance is worked out from the coordinates read."""
    L = LocationRow.__table__
    SAL = ServiceAtLocationRow.__table__
    placed = and_(
        L.c.id == SAL.c.location_id, L.c.latitude.is_not(None), L.c.longitude.is_not(None)
    )
    if c.radius_km is None:
        return S.outerjoin(SAL.join(L, placed), SAL.c.service_id == S.c.id)
    conditions += _box(c)
    return S.join(SAL, SAL.c.service_id == S.c.id).join(L, placed)


def _nearest(c: Criteria, rows: Sequence[Any], scores: dict[uuid.UUID, float]) -> list[Hit]:
    """One hit per service, at its nearest location (within the radius, if given). Rows are
    (id, name, latitude, longitude, ...); hundreds of them, so plain tuples and one dict."""
    near = c.near
    assert near is not None
    radius = c.radius_km
    names: dict[uuid.UUID, str] = {}
    nearest: dict[uuid.UUID, float | None] = {}
    for service_id, name, latitude, longitude, *_ in rows:
        d = None
        if latitude is not None and longitude is not None:
            d = haversine_km(near.latitude, near.longitude, latitude, longitude)
        if radius is not None and (d is None or d > radius):
            continue
        names[service_id] = name
        seen = nearest.get(service_id, math.inf)
        if d is not None and (seen is None or d < seen):
            nearest[service_id] = d
        elif service_id not in nearest:
            nearest[service_id] = None
    return [Hit(i, names[i], scores.get(i, 0.0), d) for i, d in nearest.items()]


async def search(
    session: AsyncSession,
    c: Criteria,
    *,
    offset: int,
    limit: int,
    facets: bool = True,
    details: bool = False,
    terms: Terms | None = None,
    check: Sequence[str] | None = None,
) -> Found:
    """``details``: the page's ``Details`` too, where the search can read them with the
    page (PostgreSQL); otherwise ``Found.details`` is None. ``terms``: the taxonomy as the
    search read it (``searching.complete``), if it did. ``check``: the query's words, to
    read again what they were planned with (``Found.seen``; PostgreSQL)."""
    if on_postgres(session):
        return await search_rows(
            session,
            c,
            offset=offset,
            limit=limit,
            facets=facets,
            details=details,
            terms=terms,
            check=check,
        )
    return await search_rows_sqlite(session, c, offset=offset, limit=limit, facets=facets)


async def normalised_search(
    session: AsyncSession, c: Criteria, *, offset: int, limit: int, facets: bool = True
) -> Found:
    """The search over the listing's own tables (before the search rows): what the search
    rows must answer alike, kept as their reference."""
    postgres = on_postgres(session)
    conditions = _filters(c)
    with_text = c.plan is not None and not c.plan.is_empty
    if with_text:
        conditions += _text_conditions(c, postgres)
    columns: list[ColumnElement[Any]] = [S.c.id, S.c.name]
    base: FromClause = S
    if c.near is not None:
        L = LocationRow.__table__
        base = _located(c, conditions)
        columns += [L.c.latitude, L.c.longitude]
    if with_text and postgres:
        assert c.plan is not None
        columns.append(_postgres_score(c.plan).label("score"))
    # A prescriber's question matches tens to hundreds of services: read them once (with
    # what orders them) and count, order and facet in memory, rather than evaluating the
    # search again for each.
    rows = (
        await session.execute(
            select(*columns).select_from(base).where(*conditions).limit(MATERIALISE_UP_TO + 1)
        )
    ).all()
    if len(rows) > MATERIALISE_UP_TO:
        where = and_(*_filters(c), *(_text_conditions(c, postgres) if with_text else []))
        return await _ordered_in_sql(session, c, where, offset=offset, limit=limit, facets=facets)
    scores: dict[uuid.UUID, float] = {}
    if with_text and postgres:
        scores = {r.id: float(r.score or 0) for r in rows}
    found = (
        _nearest(c, rows, scores)
        if c.near is not None
        else [Hit(r.id, r.name, scores.get(r.id, 0.0), None) for r in rows]
    )
    if not found:
        return Found(0, [])
    ids = [h.service_id for h in found]
    if with_text and not postgres:
        assert c.plan is not None
        scores = await sqlite_scores(session, c.plan, ids)
        found = [replace(h, score=scores.get(h.service_id, 0.0)) for h in found]
    found.sort(key=sort_key(c))
    result = Found(len(found), found[offset : offset + limit])
    if facets:
        result.facets = await facet_counts(session, ids)
    return result


async def _ordered_in_sql(
    session: AsyncSession,
    c: Criteria,
    where: ColumnElement[bool],
    *,
    offset: int,
    limit: int,
    facets: bool,
) -> Found:
    """A broad search (more matches than are worth reading): counted, ordered and paged by
    the database."""
    postgres = on_postgres(session)
    base: FromClause = S
    score: ColumnElement[float] = literal(0.0, Float)
    if c.plan is not None and not c.plan.is_empty:
        if postgres:
            score = _postgres_score(c.plan)
        else:
            ranked = sqlite_ranked(c.plan).subquery("ranked")
            base = base.outerjoin(ranked, ranked.c.service_id == S.c.id)
            score = func.coalesce(ranked.c.s, 0.0)
    distance: ColumnElement[Any] = literal(None, Float)
    if c.near is not None:
        nearest = _distances(c)
        if c.radius_km is not None:
            base = base.join(nearest, nearest.c.service_id == S.c.id)
        else:
            base = base.outerjoin(nearest, nearest.c.service_id == S.c.id)
        distance = nearest.c.distance_km
    matching = select(S.c.id).select_from(base).where(where)
    total = await session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    order: list[Any]
    by_distance = [distance.asc().nulls_last()] if c.near is not None else []
    if c.sort == "distance" and c.near is not None:
        order = [*by_distance, score.desc(), S.c.name]
    elif c.sort == "name":
        order = [S.c.name, *by_distance]
    else:
        order = [score.desc(), *by_distance, S.c.name]
    page: Select[Any] = (
        select(S.c.id, S.c.name, score.label("score"), distance.label("d"))
        .select_from(base)
        .where(where)
        .order_by(*order, S.c.id)
        .offset(offset)
        .limit(limit)
    )
    hits = [
        Hit(row.id, row.name, float(row.score or 0), row.d)
        for row in (await session.execute(page)).all()
    ]
    found = Found(total, hits)
    if facets:
        found.facets = await facet_counts(session, matching)
    return found


@dataclass(frozen=True)
class LocationHit:
    service_at_location_id: uuid.UUID
    service_id: uuid.UUID
    location_id: uuid.UUID
    distance_km: float | None


async def search_locations(
    session: AsyncSession, c: Criteria, *, offset: int, limit: int
) -> tuple[int, list[LocationHit]]:
    """Service-at-location pairs of matching services, nearest first when a point is given
    (each pair's own distance; within ``radius_km`` if set)."""
    sal = ServiceAtLocationRow.__table__
    loc = LocationRow.__table__
    base = sal.join(S, S.c.id == sal.c.service_id).join(loc, loc.c.id == sal.c.location_id)
    conditions = _filters(c)
    if c.plan is not None and not c.plan.is_empty:
        conditions += _text_conditions(c, on_postgres(session))
    distance: ColumnElement[Any] = literal(None, Float)
    order: list[Any] = [S.c.name, sal.c.id]
    if c.near is not None:
        distance = haversine_sql(loc.c.latitude, loc.c.longitude, c.near)
        if c.radius_km is not None:
            conditions.append(distance <= c.radius_km)
        order = [distance.asc().nulls_last(), *order]
    where = and_(*conditions)
    total = await session.scalar(select(func.count()).select_from(base).where(where)) or 0
    rows = await session.execute(
        select(sal.c.id, sal.c.service_id, sal.c.location_id, distance.label("d"))
        .select_from(base)
        .where(where)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    )
    return total, [LocationHit(r.id, r.service_id, r.location_id, r.d) for r in rows.all()]
