"""The Open Referral UK 3.0 API under ``/oruk``: open (no key), paged as the profile pages
(``total_items`` ... ``contents``), documents per the profile's compiled schemas."""

from __future__ import annotations

import math
import uuid
from dataclasses import replace
from datetime import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from carethread.db import UnitOfWork
from carethread.errors import NotFound
from carethread.service import UoWDep
from directory import searching
from directory.domain.opening import WEEKDAYS
from directory.oruk import render
from directory.oruk.parse import V1_DAYS
from directory.store import listings
from directory.store import oruk as store
from directory.store.search import search, search_locations
from directory.store.search_types import Criteria
from directory.store.tables import (
    OrganizationRow,
    ServiceAtLocationRow,
    TaxonomyRow,
    TaxonomyTermRow,
)
from directory.store.taxonomy import load_terms

router = APIRouter(prefix="/oruk", tags=["oruk"])
Page = Annotated[int, Query(ge=1, le=100_000, description="Page number of paginated result.")]
PerPage = Annotated[int, Query(ge=1, le=500, description="Results in a single page.")]


def envelope(total: int, page: int, per_page: int, contents: list[Any]) -> dict[str, Any]:
    pages = max(1, math.ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not contents,
        "contents": contents,
    }


def _minutes(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        t = time.fromisoformat(value)
    except ValueError as e:
        raise searching.query_error(field, f"{field} is a time, like 09:30") from e
    return t.hour * 60 + t.minute


def _weekday(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if text.upper() in WEEKDAYS:
        return WEEKDAYS.index(text.upper())
    if text.lower() in V1_DAYS:
        return WEEKDAYS.index(V1_DAYS[text.lower()])
    raise searching.query_error("day", "day is a weekday, like Monday or MO")


async def _criteria(
    uow: UnitOfWork,
    *,
    search_text: str | None,
    taxonomy_term_id: str | None,
    taxonomy_id: str | None,
    minimum_age: float | None,
    maximum_age: float | None,
    start_time: str | None,
    end_time: str | None,
    day: str | None,
) -> Criteria:
    term_ids: list[uuid.UUID] = []
    if taxonomy_term_id:
        terms = await load_terms(uow.session)
        term_ids = searching.resolve_terms(terms, [taxonomy_term_id], "taxonomy_term_id")
    if taxonomy_id:
        try:
            wanted = uuid.UUID(taxonomy_id)
        except ValueError as e:
            raise searching.query_error("taxonomy_id", "unknown taxonomy") from e
        in_taxonomy = await store.terms_in(uow.session, wanted)
        if not in_taxonomy and await uow.session.get(TaxonomyRow, wanted) is None:
            raise searching.query_error("taxonomy_id", f"unknown taxonomy {taxonomy_id!r}")
        # Both given: terms of the one that are in the other.
        term_ids = [t for t in term_ids if t in in_taxonomy] if term_ids else in_taxonomy
        if not term_ids:
            term_ids = [uuid.UUID(int=0)]  # matches nothing, as no term qualifies
    base = Criteria(
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        open_on=_weekday(day),
        open_from=_minutes(start_time, "start_time"),
        open_until=_minutes(end_time, "end_time"),
        sort="relevance" if search_text else "name",
    )
    criteria, _ = await searching.complete(uow, base, q=search_text, taxonomy=[])
    if term_ids:
        criteria = replace(criteria, term_ids=term_ids)
    return criteria


Search = Annotated[str | None, Query(alias="search", max_length=200, description="Full text.")]
TermId = Annotated[str | None, Query(max_length=100)]
Age = Annotated[float | None, Query(ge=0, le=200)]
TimeOfDay = Annotated[str | None, Query(max_length=20)]


@router.get("/", summary="About this API and its relationship with HSDS")
async def oruk_meta(request: Request) -> dict[str, str]:
    return {
        "version": "3.0",
        "profile": render.PROFILE,
        "openapi_url": str(request.url_for("openapi")),
    }


@router.get("/services", summary="Paginated services with their one-to-one fields")
async def oruk_services(
    uow: UoWDep,
    search_text: Search = None,
    page: Page = 1,
    per_page: PerPage = 50,
    taxonomy_term_id: TermId = None,
    taxonomy_id: TermId = None,
    minimum_age: Age = None,
    maximum_age: Age = None,
    start_time: TimeOfDay = None,
    end_time: TimeOfDay = None,
    day: TimeOfDay = None,
) -> dict[str, Any]:
    criteria = await _criteria(
        uow,
        search_text=search_text,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        start_time=start_time,
        end_time=end_time,
        day=day,
    )
    found = await search(
        uow.session, criteria, offset=(page - 1) * per_page, limit=per_page, facets=False
    )
    rows = await listings.services_by_id(uow.session, [h.service_id for h in found.hits])
    orgs = await store.organizations(uow.session, [r.organization_id for r in rows.values()])
    contents = [
        render.service_list_doc(rows[h.service_id], orgs[rows[h.service_id].organization_id])
        for h in found.hits
    ]
    return envelope(found.total, page, per_page, contents)


async def _full_service(uow: UnitOfWork, service_id: uuid.UUID) -> dict[str, Any]:
    rows = await listings.services_by_id(uow.session, [service_id])
    if service_id not in rows:
        raise NotFound(f"No service {service_id}.")
    row = rows[service_id]
    org = await uow.session.get(OrganizationRow, row.organization_id)
    assert org is not None
    return render.service_full_doc(
        row,
        org,
        await listings.locations_of(uow.session, service_id),
        await store.terms_of(uow.session, service_id),
    )


@router.get("/services/{id}", summary="A fully nested service")
async def oruk_service(id: uuid.UUID, uow: UoWDep) -> dict[str, Any]:
    return await _full_service(uow, id)


@router.get("/service_at_locations", summary="Paginated services at locations, near a postcode")
async def oruk_service_at_locations(
    uow: UoWDep,
    search_text: Search = None,
    page: Page = 1,
    per_page: PerPage = 50,
    taxonomy_term_id: TermId = None,
    taxonomy_id: TermId = None,
    minimum_age: Age = None,
    maximum_age: Age = None,
    start_time: TimeOfDay = None,
    end_time: TimeOfDay = None,
    day: TimeOfDay = None,
    postcode: Annotated[str | None, Query(max_length=10)] = None,
    proximity: Annotated[
        float | None, Query(gt=0, le=500_000, description="metres from the postcode")
    ] = None,
) -> dict[str, Any]:
    criteria = await _criteria(
        uow,
        search_text=search_text,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        start_time=start_time,
        end_time=end_time,
        day=day,
    )
    if proximity is not None and not postcode:
        raise searching.query_error("proximity", "proximity needs a postcode")
    near = searching.locate(postcode, None, None)
    criteria = replace(
        criteria, near=near, radius_km=proximity / 1000 if proximity is not None else None
    )
    total, hits = await search_locations(
        uow.session, criteria, offset=(page - 1) * per_page, limit=per_page
    )
    rows = await listings.services_by_id(uow.session, [h.service_id for h in hits])
    orgs = await store.organizations(uow.session, [r.organization_id for r in rows.values()])
    places = await store.locations(uow.session, [h.location_id for h in hits])
    contents = [
        {
            "id": str(h.service_at_location_id),
            "service_id": str(h.service_id),
            "location_id": str(h.location_id),
            "location": render.location_doc(places[h.location_id], full=False),
            "service": render.service_list_doc(
                rows[h.service_id], orgs[rows[h.service_id].organization_id]
            ),
        }
        | ({"distance": round(h.distance_km * 1000)} if h.distance_km is not None else {})
        for h in hits
    ]
    return envelope(total, page, per_page, contents)


@router.get("/service_at_locations/{id}", summary="A service at a location, fully nested")
async def oruk_service_at_location(id: uuid.UUID, uow: UoWDep) -> dict[str, Any]:
    link = await uow.session.get(ServiceAtLocationRow, id)
    if link is None:
        raise NotFound(f"No service_at_location {id}.")
    service = await _full_service(uow, link.service_id)
    place = next(
        s["location"]
        for s in service["service_at_locations"]
        if s["location_id"] == str(link.location_id)
    )
    # The profile's OpenAPI describes this answer with service.json: the service's id
    # fields aside, name and status are carried so it validates as that too.
    return {
        "id": str(id),
        "service_id": str(link.service_id),
        "location_id": str(link.location_id),
        "name": service["name"],
        "status": service["status"],
        "location": place,
        "service": service,
    }


@router.get("/taxonomies", summary="Paginated taxonomies")
async def oruk_taxonomies(uow: UoWDep, page: Page = 1, per_page: PerPage = 50) -> dict[str, Any]:
    total, rows = await store.page_of(
        uow.session, TaxonomyRow, offset=(page - 1) * per_page, limit=per_page
    )
    return envelope(total, page, per_page, [_taxonomy_doc(t) for t in rows])


def _taxonomy_doc(t: TaxonomyRow) -> dict[str, Any]:
    return render.compact(
        {
            "id": str(t.id),
            "name": t.name,
            "description": t.description or t.name,
            "uri": render.uri(t.uri),
            "version": t.version,
        }
    )


@router.get("/taxonomies/{id}", summary="A taxonomy with its terms")
async def oruk_taxonomy(id: uuid.UUID, uow: UoWDep) -> dict[str, Any]:
    taxonomy = await uow.session.get(TaxonomyRow, id)
    if taxonomy is None:
        raise NotFound(f"No taxonomy {id}.")
    _, terms = await store.page_of(
        uow.session,
        TaxonomyTermRow,
        offset=0,
        limit=10_000,
        where=[TaxonomyTermRow.taxonomy_id == id],
    )
    return _taxonomy_doc(taxonomy) | {
        "taxonomy_terms": [render.term_doc(t, taxonomy.name) for t in terms]
    }


@router.get("/taxonomy_terms", summary="Paginated taxonomy terms")
async def oruk_taxonomy_terms(
    uow: UoWDep,
    page: Page = 1,
    per_page: PerPage = 50,
    taxonomy_id: Annotated[uuid.UUID | None, Query()] = None,
    parent_id: Annotated[uuid.UUID | None, Query()] = None,
) -> dict[str, Any]:
    where = []
    if taxonomy_id is not None:
        where.append(TaxonomyTermRow.taxonomy_id == taxonomy_id)
    if parent_id is not None:
        where.append(TaxonomyTermRow.parent_id == parent_id)
    total, rows = await store.page_of(
        uow.session, TaxonomyTermRow, offset=(page - 1) * per_page, limit=per_page, where=where
    )
    names = await store.taxonomy_names(uow.session)
    contents = [
        render.term_doc(t, names.get(t.taxonomy_id) if t.taxonomy_id else None) for t in rows
    ]
    return envelope(total, page, per_page, contents)


@router.get("/taxonomy_terms/{id}", summary="A taxonomy term")
async def oruk_taxonomy_term(id: uuid.UUID, uow: UoWDep) -> dict[str, Any]:
    term = await uow.session.get(TaxonomyTermRow, id)
    if term is None:
        raise NotFound(f"No taxonomy term {id}.")
    taxonomy = await uow.session.get(TaxonomyRow, term.taxonomy_id) if term.taxonomy_id else None
    return render.term_doc(term, taxonomy.name if taxonomy else None)


@router.get("/organizations", summary="Paginated organisations")
async def oruk_organizations(uow: UoWDep, page: Page = 1, per_page: PerPage = 50) -> dict[str, Any]:
    total, rows = await store.page_of(
        uow.session, OrganizationRow, offset=(page - 1) * per_page, limit=per_page
    )
    return envelope(total, page, per_page, [render.organization_doc(o) for o in rows])


@router.get("/organizations/{id}", summary="An organisation with its services, fully nested")
async def oruk_organization(id: uuid.UUID, uow: UoWDep) -> dict[str, Any]:
    org = await uow.session.get(OrganizationRow, id)
    if org is None:
        raise NotFound(f"No organization {id}.")
    services = [
        await _full_service(uow, s.id) for s in await store.active_services_of(uow.session, id)
    ]
    for s in services:
        s.pop("organization", None)  # it is the document's own
    return render.organization_doc(org, full=True) | {"services": services}
