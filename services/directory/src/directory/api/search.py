"""``GET /api/v1/services/search``: the prescriber's question, public (no token)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from carethread.db import UnitOfWork
from carethread.service import UoWDep
from directory import searching
from directory.api.deps import Now, StaleAfter
from directory.api.schemas import (
    NearestLocation,
    SearchPage,
    SearchParameters,
    SearchQuery,
    SearchResult,
)
from directory.domain.geo import haversine_km
from directory.domain.listing import ReferralRoute, is_stale
from directory.domain.opening import local_instant
from directory.places import canonical_borough
from directory.store import results
from directory.store.search_types import Criteria, Found, Point

router = APIRouter(prefix="/api/v1/services", tags=["search"])


def _borough(value: str | None) -> str | None:
    if value is None:
        return None
    borough = canonical_borough(value)
    if borough is None:
        raise searching.query_error("borough", f"unknown borough {value!r}")
    return borough


async def _results(
    uow: UnitOfWork, found: Found, near: Point | None, *, now: Now, stale_after: timedelta
) -> list[SearchResult]:
    if found.details is not None:
        rows, places, labels = found.details.summaries, found.details.places, found.details.labels
    else:
        ids = [h.service_id for h in found.hits]
        rows = await results.summaries(uow.session, ids)
        places = await results.places(uow.session, ids) if near is not None else {}
        labels = await results.labels(uow.session, ids)
    out = []
    for hit in found.hits:
        row = rows[hit.service_id]
        nearest, distance = None, None
        if near is not None and (located := places.get(row.id)):
            distance, place = min(
                (
                    (haversine_km(near.latitude, near.longitude, p.latitude, p.longitude), p)
                    for p in located
                ),
                key=lambda dp: dp[0],
            )
            nearest = NearestLocation(
                name=place.name,
                postcode=place.postcode,
                latitude=place.latitude,
                longitude=place.longitude,
            )
        out.append(
            SearchResult(
                id=row.id,
                name=row.name,
                organization_name=row.organization_name,
                description=row.description[:300],
                taxonomy=labels.get(row.id, []),
                boroughs=row.boroughs,
                languages=row.languages,
                free=row.free,
                capacity=row.capacity,
                referral_route=row.referral_route,
                takes_direct_referrals=row.referral_route == ReferralRoute.FORMAL_REFERRAL,
                last_verified_at=row.last_verified_at,
                stale=is_stale(row.last_verified_at, now, stale_after),
                score=round(hit.score, 6),
                distance_km=round(distance, 3) if distance is not None else None,
                nearest_location=nearest,
            )
        )
    return out


@router.get("/search", response_model=SearchPage)
async def search_services(
    uow: UoWDep,
    now: Now,
    stale_after: StaleAfter,
    asked: Annotated[SearchParameters, Query()],
) -> SearchPage:
    await uow.only_reads()
    near = searching.locate(asked.postcode, asked.lat, asked.lon)
    if asked.radius_km is not None and near is None:
        raise searching.query_error("radius_km", "radius_km needs a postcode, or lat and lon")
    at = searching.when(asked.open_at, now)
    q, page, per_page = asked.q, asked.page, asked.per_page
    base = Criteria(
        age=asked.age,
        borough=_borough(asked.borough),
        language=asked.language,
        free=asked.free,
        accepting=asked.accepting,
        capacity=asked.capacity.value if asked.capacity else None,
        delivery=asked.delivery.value if asked.delivery else None,
        accessibility=asked.accessibility,
        referral_route=asked.referral_route.value if asked.referral_route else None,
        open_at=local_instant(at) if at else None,
        near=near,
        radius_km=asked.radius_km,
        sort=asked.sort or ("relevance" if q else "distance" if near else "name"),
    )
    found, understood = await searching.find(
        uow, base, q=q, taxonomy=asked.taxonomy or [], offset=(page - 1) * per_page, limit=per_page
    )
    planned = understood.plan
    return SearchPage(
        total=found.total,
        page=page,
        per_page=per_page,
        items=await _results(uow, found, near, now=now, stale_after=stale_after),
        facets=found.facets,
        query=SearchQuery(
            words=list(planned.words) if planned else [],
            needs=[list(c.term_ids) for c in planned.concepts] if planned else [],
            corrections=dict(planned.corrections) if planned else {},
            latitude=near.latitude if near else None,
            longitude=near.longitude if near else None,
            open_at=at,
        ),
    )
