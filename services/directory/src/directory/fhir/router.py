"""``/fhir``: the directory as FHIR R4 (UK Core), open like the rest of the directory.

- ``GET /fhir/HealthcareService?name=&service-category=&location.near=lat|lon|distance|km``
  (also ``active``, ``_count``, ``_page``, ``_include=HealthcareService:location`` and
  ``HealthcareService:providedBy``): a searchset Bundle, nearest first when near is given.
- ``GET /fhir/HealthcareService/{id}``, ``/fhir/Location/{id}``, ``/fhir/Organization/{id}``.

Answers are ``application/fhir+json``; errors are OperationOutcomes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from carethread.db import UnitOfWork
from carethread.errors import Problem
from carethread.service import UoWDep
from directory import searching
from directory.fhir import resources
from directory.store import listings
from directory.store import oruk as store
from directory.store.search import search
from directory.store.search_types import Criteria, Point
from directory.store.tables import LocationRow, OrganizationRow
from directory.store.taxonomy import load_terms

FHIR_JSON = "application/fhir+json"
ISSUE_CODES = {400: "invalid", 404: "not-found", 422: "invalid"}


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


def outcome(status: int, message: str) -> FhirResponse:
    code = ISSUE_CODES.get(status, "processing")
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    return FhirResponse(body, status_code=status)


class FhirRoute(APIRoute):
    """Errors as OperationOutcomes, whatever raised them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as e:
                status = 400 if e.status == 422 else e.status
                return outcome(status, e.detail or e.title)
            except RequestValidationError as e:
                where = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc'][1:])}: {err['msg']}"
                    for err in e.errors()
                )
                return outcome(400, where)
            except StarletteHTTPException as e:
                return outcome(e.status_code, str(e.detail))

        return route


router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute)


def _near(value: str | None) -> tuple[Point | None, float | None]:
    """``lat|lon|distance|units`` (units km or m; distance optional)."""
    if value is None:
        return None, None
    parts = value.split("|")
    try:
        lat, lon = float(parts[0]), float(parts[1])
        distance = float(parts[2]) if len(parts) > 2 and parts[2] else None
    except (ValueError, IndexError) as e:
        raise searching.query_error(
            "location.near", "near is latitude|longitude|distance|units"
        ) from e
    units = parts[3] if len(parts) > 3 and parts[3] else "km"
    if units not in ("km", "m"):
        raise searching.query_error("location.near", "distance units are km or m")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise searching.query_error("location.near", "latitude or longitude out of range")
    if distance is not None and units == "m":
        distance /= 1000
    return Point(lat, lon), distance


async def _service_resources(
    uow: UnitOfWork, ids: list[uuid.UUID]
) -> tuple[list[dict[str, Any]], dict[uuid.UUID, LocationRow], set[uuid.UUID]]:
    rows = await listings.services_by_id(uow.session, ids)
    places = await listings.locations_for(uow.session, ids)
    out, locations, organizations = [], {}, set()
    for service_id in ids:
        row = rows[service_id]
        terms = [
            (t.code or str(t.id), t.name, t.code is not None)
            for t, _ in await store.terms_of(uow.session, service_id)
        ]
        here = places.get(service_id, [])
        out.append(resources.healthcare_service(row, here, terms))
        locations.update({loc.id: loc for loc in here})
        organizations.add(row.organization_id)
    return out, locations, organizations


def _entry(base: str, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


@router.get("/HealthcareService", response_class=FhirResponse)
async def search_healthcare_services(
    request: Request,
    uow: UoWDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    service_category: Annotated[
        str | None, Query(alias="service-category", max_length=200, description="[system|]code")
    ] = None,
    near: Annotated[
        str | None, Query(alias="location.near", description="latitude|longitude|distance|units")
    ] = None,
    active: bool = True,
    count: Annotated[int, Query(alias="_count", ge=1, le=100)] = 20,
    page: Annotated[int, Query(alias="_page", ge=1, le=10_000)] = 1,
    include: Annotated[list[str] | None, Query(alias="_include")] = None,
) -> FhirResponse:
    point, radius = _near(near)
    term_ids: list[uuid.UUID] = []
    if service_category:
        code = service_category.rsplit("|", 1)[-1]
        terms = await load_terms(uow.session)
        term_ids = searching.resolve_terms(terms, [code], "service-category")
    criteria = Criteria(
        name_contains=name,
        term_ids=term_ids,
        near=point,
        radius_km=radius,
        active=active,
        sort="distance" if point else "name",
    )
    found = await search(
        uow.session, criteria, offset=(page - 1) * count, limit=count, facets=False
    )
    base = str(request.base_url).rstrip("/") + "/fhir"
    services, locations, org_ids = await _service_resources(uow, [h.service_id for h in found.hits])
    entries = [_entry(base, s, "match") for s in services]
    wanted = set(include or [])
    if "HealthcareService:location" in wanted:
        entries += [_entry(base, resources.location(loc), "include") for loc in locations.values()]
    if "HealthcareService:providedBy" in wanted:
        orgs = await store.organizations(uow.session, list(org_ids))
        entries += [_entry(base, resources.organization(o), "include") for o in orgs.values()]
    links = [{"relation": "self", "url": str(request.url)}]
    if page * count < found.total:
        links.append(
            {"relation": "next", "url": str(request.url.include_query_params(_page=page + 1))}
        )
    return FhirResponse(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": found.total,
            "link": links,
            "entry": entries,
        }
    )


@router.get("/HealthcareService/{id}", response_class=FhirResponse)
async def read_healthcare_service(id: uuid.UUID, uow: UoWDep) -> FhirResponse:
    if not await listings.services_by_id(uow.session, [id]):
        return outcome(404, f"No HealthcareService {id}.")
    services, _, _ = await _service_resources(uow, [id])
    return FhirResponse(services[0])


@router.get("/Location/{id}", response_class=FhirResponse)
async def read_location(id: uuid.UUID, uow: UoWDep) -> FhirResponse:
    loc = await uow.session.get(LocationRow, id)
    return FhirResponse(resources.location(loc)) if loc else outcome(404, f"No Location {id}.")


@router.get("/Organization/{id}", response_class=FhirResponse)
async def read_organization(id: uuid.UUID, uow: UoWDep) -> FhirResponse:
    org = await uow.session.get(OrganizationRow, id)
    if org is None:
        return outcome(404, f"No Organization {id}.")
    return FhirResponse(resources.organization(org))
