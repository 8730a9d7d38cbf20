"""How matching services are ordered in memory, and SQLite's relevance (FTS5's bm25) for
the matching services only."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, column, func, literal, literal_column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from directory.domain.search import QueryPlan
from directory.store.search_terms import any_words
from directory.store.search_types import Criteria, Hit

FTS = table("service_fts", column("service_id"), column("rank"))


def sqlite_ranked(plan: QueryPlan) -> Select[Any]:
    """FTS5 ids with their relevance: bm25 is lower for better matches; weights: name,
    keywords, description."""
    return select(
        FTS.c.service_id,
        (-func.bm25(literal_column("service_fts"), 0.0, 10.0, 4.0, 1.0)).label("s"),
    ).where(literal_column("service_fts").op("MATCH")(literal(any_words(plan, False))))


async def sqlite_scores(
    session: AsyncSession, plan: QueryPlan, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, float]:
    """bm25 of the matching services only: scoring every text match costs far more."""
    ranked = sqlite_ranked(plan).where(FTS.c.service_id.in_([i.hex for i in ids]))
    return {uuid.UUID(sid): float(s) for sid, s in (await session.execute(ranked)).all()}


def sort_key(c: Criteria) -> Callable[[Hit], tuple[Any, ...]]:
    """The order the SQL searches give (score, distance, name in code point order, id),
    for services already in memory."""

    def distance(h: Hit) -> tuple[bool, float]:
        return (h.distance_km is None, h.distance_km or 0.0)

    if c.sort == "distance" and c.near is not None:
        return lambda h: (distance(h), -h.score, h.name, h.service_id)
    if c.sort == "name":
        return lambda h: (h.name, distance(h), h.service_id)
    return lambda h: (-h.score, distance(h), h.name, h.service_id)
