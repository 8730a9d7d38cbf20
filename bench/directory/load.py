"""Filling a benchmark directory fast: the listings the importer would write, made by the
same parser and resolver, inserted in batches (no events, no history) so that 100,000 of
them load in minutes. The importer's own speed is measured separately."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from carethread.service import ServiceRuntime
from directory.domain.search import tokens
from directory.importing import needs_terms, save_terms
from directory.oruk.parse import read_service
from directory.resolve import resolve
from directory.store import search_rows
from directory.store.tables import (
    LocationRow,
    OpeningHoursRow,
    OrganizationRow,
    SearchWordRow,
    ServiceAtLocationRow,
    ServiceFacetRow,
    ServiceRow,
    ServiceTaxonomyRow,
)
from directory.store.taxonomy import load_terms


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def bulk_load(
    runtime: ServiceRuntime, services: Iterable[dict[str, Any]], batch: int = 1000
) -> int:
    now = datetime.now(UTC)
    loaded = 0
    organizations: set[object] = set()
    for chunk in _batches(services, batch):
        items = [read_service(i, raw) for i, raw in enumerate(chunk)]
        async with runtime.uow() as uow:
            postgres = uow.is_postgres
            await save_terms(uow, [t for item in items for t in item.terms])
            terms = await load_terms(uow.session)
            rows: dict[str, list[dict[str, Any]]] = {
                k: [] for k in ("org", "loc", "svc", "sal", "tax", "facet", "hours", "fts")
            }
            words: set[str] = set()
            for item in items:
                assert item.listing is not None, item.errors
                extra = [t.label for f in item.terms for t in needs_terms(terms, f.name)]
                listing = item.listing.model_copy(
                    update={"taxonomy": [*item.listing.taxonomy, *extra]}
                )
                assert listing.id is not None
                r = resolve(listing, terms, listing.id, strict=False)
                org = r.listing.organization
                if org.id not in organizations:
                    organizations.add(org.id)
                    rows["org"].append(org.model_dump() | {"updated_at": now})
                rows["loc"] += r.locations
                doc = r.listing.model_dump(mode="json", exclude={"id"})
                rows["svc"].append(
                    {
                        "id": r.service_id,
                        "organization_id": org.id,
                        "name": r.listing.name,
                        "description": r.listing.description,
                        "url": None,
                        "email": None,
                        "status": "active",
                        "capacity": r.listing.capacity.value,
                        "referral_route": r.listing.referral_route.value,
                        "minimum_age": r.listing.minimum_age,
                        "maximum_age": r.listing.maximum_age,
                        "free": r.listing.free,
                        "fees": None,
                        "eligibility": None,
                        "document": doc,
                        "keywords": r.keywords,
                        "last_verified_at": now,
                        "version": 1,
                        "withdrawn_reason": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                rows["sal"] += [
                    {"id": sal, "service_id": r.service_id, "location_id": loc}
                    for sal, loc in r.indexed.location_ids
                ]
                rows["tax"] += [
                    {"service_id": r.service_id, "term_id": t} for t in set(r.indexed.term_ids)
                ]
                rows["facet"] += [
                    {"service_id": r.service_id, "facet": f, "value": v}
                    for f, v in dict.fromkeys(r.indexed.facets)
                ]
                rows["hours"] += [
                    {
                        "service_id": r.service_id,
                        "weekday": h.weekday,
                        "opens": h.opens,
                        "closes": h.closes,
                    }
                    for h in r.indexed.hours
                ]
                words |= {
                    w
                    for w in tokens(f"{r.listing.name} {r.keywords} {r.listing.description}")
                    if len(w) > 2
                }
                rows["fts"].append(
                    {
                        "id": r.service_id.hex,
                        "name": r.listing.name,
                        "keywords": r.keywords,
                        "description": r.listing.description,
                    }
                )
            session = uow.session
            dialect_insert = pg_insert if postgres else sqlite_insert
            shared: list[tuple[Any, str]] = [(OrganizationRow, "org"), (LocationRow, "loc")]
            for table, key in shared:
                if rows[key]:
                    await session.execute(dialect_insert(table).on_conflict_do_nothing(), rows[key])
            owned: list[tuple[Any, str]] = [
                (ServiceRow, "svc"),
                (ServiceAtLocationRow, "sal"),
                (ServiceTaxonomyRow, "tax"),
                (ServiceFacetRow, "facet"),
                (OpeningHoursRow, "hours"),
            ]
            for table, key in owned:
                if rows[key]:
                    await session.execute(insert(table), rows[key])
            await session.execute(
                dialect_insert(SearchWordRow).on_conflict_do_nothing(), [{"word": w} for w in words]
            )
            # The search rows (both databases), as the write paths keep them.
            await search_rows.refresh(session, [row["id"] for row in rows["svc"]])
            if not postgres:
                await session.execute(
                    text(
                        "INSERT INTO service_fts (service_id, name, keywords, description) "
                        "VALUES (:id, :name, :keywords, :description)"
                    ),
                    rows["fts"],
                )
            await uow.commit()
        loaded += len(chunk)
    return loaded
