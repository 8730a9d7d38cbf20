"""Facet counts: how the matching services split by taxonomy term, borough, language,
delivery mode, accessibility, capacity, referral route and cost."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import among
from directory.store.tables import (
    ServiceFacetRow,
    ServiceRow,
    ServiceTaxonomyRow,
    TaxonomyTermRow,
)

S = ServiceRow.__table__
F = ServiceFacetRow.__table__


def no_facets() -> dict[str, dict[str, int]]:
    """Every facet a search counts, with no values yet."""
    return {
        "taxonomy": {},
        "borough": {},
        "language": {},
        "delivery": {},
        "accessibility": {},
        "capacity": {},
        "referral_route": {},
        "free": {},
    }


async def facet_counts(
    session: AsyncSession, matching: Sequence[uuid.UUID] | Select[Any]
) -> dict[str, dict[str, int]]:
    out = no_facets()

    def matched(column: Any) -> Any:
        if isinstance(matching, Select):
            return column.in_(matching)
        return among(session, column, matching)

    rows = await session.execute(
        select(F.c.facet, F.c.value, func.count())
        .where(matched(F.c.service_id))
        .group_by(F.c.facet, F.c.value)
    )
    for facet, value, n in rows.all():
        out.setdefault(facet, {})[value] = n
    ST = ServiceTaxonomyRow.__table__
    T = TaxonomyTermRow.__table__
    rows = await session.execute(
        select(T.c.code, T.c.id, func.count())
        .select_from(ST.join(T, T.c.id == ST.c.term_id))
        .where(matched(ST.c.service_id))
        .group_by(T.c.code, T.c.id)
    )
    out["taxonomy"] = {code or str(term_id): n for code, term_id, n in rows.all()}
    rows = await session.execute(
        select(S.c.capacity, S.c.referral_route, S.c.free, func.count())
        .where(matched(S.c.id))
        .group_by(S.c.capacity, S.c.referral_route, S.c.free)
    )
    for capacity, route, free, n in rows.all():
        for facet, value in (
            ("capacity", capacity),
            ("referral_route", route),
            ("free", "true" if free else "false"),
        ):
            out[facet][value] = out[facet].get(value, 0) + n
    return out
