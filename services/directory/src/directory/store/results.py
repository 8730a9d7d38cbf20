"""What a page of search results shows of each service, read in a few column-only
statements (no ORM objects, no whole documents)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import among
from directory.store.tables import (
    LocationRow,
    OrganizationRow,
    ServiceAtLocationRow,
    ServiceRow,
    ServiceTaxonomyRow,
    TaxonomyTermRow,
)

S = ServiceRow.__table__
ORG = OrganizationRow.__table__
L = LocationRow.__table__
SAL = ServiceAtLocationRow.__table__


@dataclass(frozen=True)
class Summary:
    id: uuid.UUID
    name: str
    organization_name: str
    description: str
    boroughs: list[str]
    languages: list[str]
    free: bool
    capacity: str
    referral_route: str
    last_verified_at: datetime | None


@dataclass(frozen=True)
class Place:
    name: str | None
    postcode: str | None
    latitude: float
    longitude: float


async def summaries(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Summary]:
    if not ids:
        return {}
    rows = await session.execute(
        select(
            S.c.id,
            S.c.name,
            ORG.c.name.label("org"),
            S.c.description,
            S.c.document["boroughs"].label("boroughs"),
            S.c.document["languages"].label("languages"),
            S.c.free,
            S.c.capacity,
            S.c.referral_route,
            S.c.last_verified_at,
        )
        .join(ORG, ORG.c.id == S.c.organization_id)
        .where(among(session, S.c.id, ids))
    )
    return {
        r.id: Summary(
            r.id,
            r.name,
            r.org,
            r.description,
            r.boroughs or [],
            r.languages or [],
            r.free,
            r.capacity,
            r.referral_route,
            r.last_verified_at,
        )
        for r in rows.all()
    }


async def places(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Place]]:
    """Each service's located places, in the order a listing shows them."""
    if not ids:
        return {}
    rows = await session.execute(
        select(SAL.c.service_id, L.c.name, L.c.postcode, L.c.latitude, L.c.longitude)
        .join(L, L.c.id == SAL.c.location_id)
        .where(
            among(session, SAL.c.service_id, ids),
            L.c.latitude.is_not(None),
            L.c.longitude.is_not(None),
        )
        .order_by(L.c.name, L.c.id)
    )
    out: dict[uuid.UUID, list[Place]] = {}
    for service_id, name, postcode, latitude, longitude in rows.all():
        out.setdefault(service_id, []).append(Place(name, postcode, latitude, longitude))
    return out


async def labels(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Each service's taxonomy terms as the API names them (code, else id)."""
    if not ids:
        return {}
    ST = ServiceTaxonomyRow.__table__
    T = TaxonomyTermRow.__table__
    rows = await session.execute(
        select(ST.c.service_id, T.c.code, T.c.id)
        .join(T, T.c.id == ST.c.term_id)
        .where(among(session, ST.c.service_id, ids))
    )
    out: dict[uuid.UUID, list[str]] = {}
    for service_id, code, term_id in rows.all():
        out.setdefault(service_id, []).append(code or str(term_id))
    return {k: sorted(v) for k, v in out.items()}
