"""A page of listings saved at once: what ``use_cases.save_listing`` does for one listing,
for many, in a few statements (a statement per table, not per listing). Every listing is
resolved and checked before anything is written, so a refused one leaves nothing behind."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from carethread.auth import Principal
from carethread.db import UnitOfWork
from carethread.errors import Conflict, Problem
from directory import use_cases
from directory.api.schemas import ServiceIn
from directory.domain import listing as rules
from directory.domain.listing import Change, ListingRefused, Revision, Status
from directory.resolve import Resolved, resolve
from directory.store import listings as store
from directory.store.tables import LocationRow, OrganizationRow, ServiceRevisionRow, ServiceRow
from directory.store.taxonomy import Terms

# The tables, for Core inserts (the ORM's bulk insert of the same dictionaries costs more).
_SERVICE = ServiceRow.metadata.tables[ServiceRow.__tablename__]
_REVISION = ServiceRevisionRow.metadata.tables[ServiceRevisionRow.__tablename__]


@dataclass(frozen=True)
class Saved:
    """What became of one listing of a page: its change (None: unchanged, not written),
    the event published, the warnings of its resolution."""

    change: Change | None
    event_id: uuid.UUID | None
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class _NewListing:
    """A new listing's service row, as inserted: what its events and text index are made
    of (an ORM object per listing cost more than its insert)."""

    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    description: str
    url: str | None
    email: str | None
    status: str
    capacity: str
    referral_route: str
    minimum_age: int | None
    maximum_age: int | None
    free: bool
    fees: str | None
    eligibility: str | None
    document: dict[str, Any]
    keywords: str
    last_verified_at: datetime
    version: int
    withdrawn_reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class _Planned:
    resolved: Resolved
    organization_id: uuid.UUID
    listing: ServiceIn
    document: dict[str, Any]
    existing: ServiceRow | None
    revision: Revision


def has_repeated_ids(bodies: Sequence[ServiceIn]) -> bool:
    """A page naming one service twice is saved listing by listing (the second is an edit
    of the first)."""
    ids = [b.id for b in bodies]
    return None in ids or len(set(ids)) != len(ids)


async def _plan(
    uow: UnitOfWork,
    body: ServiceIn,
    existing: ServiceRow | None,
    terms: Terms,
    organizations: dict[str, uuid.UUID],
) -> _Planned | Saved:
    assert body.id is not None
    resolved = resolve(body, terms, body.id, strict=False)
    org = body.organization
    org_id = org.id or organizations.get(org.name) or await use_cases.organization_id(uow, body)
    organizations.setdefault(org.name, org_id)
    listing = resolved.listing.model_copy(
        update={"organization": resolved.listing.organization.model_copy(update={"id": org_id})}
    )
    document = listing.model_dump(mode="json", exclude={"id"})
    if existing is None:
        return _Planned(
            resolved, org_id, listing, document, None, Revision(Change.PUBLISHED, 1, {})
        )
    try:
        revision = rules.revise(
            Status(existing.status), existing.version, existing.document, document
        )
    except ListingRefused as e:
        raise Conflict(str(e)) from e
    if revision.change is None:
        return Saved(None, None, resolved.warnings)
    return _Planned(resolved, org_id, listing, document, existing, revision)


async def save_listings(
    uow: UnitOfWork,
    bodies: Sequence[ServiceIn],
    principal: Principal,
    *,
    now: datetime,
    terms: Terms,
) -> list[Saved | Problem]:
    """Each listing created, or updated if its id is known (every body has an id, none
    twice: see ``has_repeated_ids``); unchanged ones are not written. One result per body,
    in order: what was written, or the problem that refused it."""
    session = uow.session
    ids = [b.id for b in bodies]
    found = await session.scalars(select(ServiceRow).where(ServiceRow.id.in_(ids)))
    existing = {r.id: r for r in found.all()}
    organizations: dict[str, uuid.UUID] = {}
    results: list[Saved | Problem | _Planned] = []
    for body in bodies:
        assert body.id is not None
        try:
            results.append(await _plan(uow, body, existing.get(body.id), terms, organizations))
        except Problem as e:
            results.append(e)
    planned = [p for p in results if isinstance(p, _Planned)]
    if not planned:
        return [r for r in results if not isinstance(r, _Planned)]
    written = await _write(uow, planned, principal, now)
    return [written[id(r)] if isinstance(r, _Planned) else r for r in results]


async def _write(
    uow: UnitOfWork, planned: list[_Planned], principal: Principal, now: datetime
) -> dict[int, Saved]:
    session = uow.session
    organizations: dict[uuid.UUID, dict[str, Any]] = {}
    locations: dict[Any, dict[str, Any]] = {}
    for p in planned:
        org = p.listing.organization
        organizations[p.organization_id] = org.model_dump() | {
            "id": p.organization_id,
            "updated_at": now,
        }
        for location in p.resolved.locations:
            locations[location["id"]] = location
    await store.upsert_many(session, OrganizationRow.__table__, list(organizations.values()), "id")
    await store.upsert_many(session, LocationRow.__table__, list(locations.values()), "id")
    rows: list[tuple[_Planned, ServiceRow | _NewListing, str | None]] = []
    created: list[dict[str, Any]] = []
    for p in planned:
        previous = p.existing.capacity if p.existing is not None else None
        row: ServiceRow | _NewListing
        if p.existing is None:
            # Written below with the page's other new listings in one Core statement: the
            # ORM's unit of work cost more than the rest of a listing's save. Its values
            # are what follows is made of (events, indexes).
            values = _new_service(p, now)
            created.append(values)
            row = _NewListing(**values)
        else:
            row = p.existing
            use_cases.apply_listing(row, p.listing, p.document, p.resolved.keywords)
            row.version = p.revision.version
            row.updated_at = now
        rows.append((p, row, previous))
    if created:
        await session.execute(insert(_SERVICE), created)
    await session.flush()
    replacing = [row.id for p, row, _ in rows if p.existing is not None]
    await store.replace_indexes(
        session, {row.id: p.resolved.indexed for p, row, _ in rows}, replacing=replacing
    )
    await store.index_texts(session, [row for _, row, _ in rows], replacing=replacing)
    # The edit history in one statement, in the page's order (as ``use_cases.record``
    # writes one listing's), then the events.
    await session.execute(
        insert(_REVISION),
        [
            {
                "service_id": row.id,
                "version": p.revision.version,
                "change": _change(p.revision).value,
                "actor": principal.sub,
                "actor_org": principal.org,
                "at": now,
                "changes": p.revision.changes,
                "reason": None,
            }
            for p, row, _ in rows
        ],
    )
    out: dict[int, Saved] = {}
    for p, row, previous in rows:
        event_id = await use_cases.publish(
            uow, _change(p.revision), row, at=now, previous_capacity=previous
        )
        out[id(p)] = Saved(p.revision.change, event_id, p.resolved.warnings)
    await session.flush()
    return out


def _change(revision: Revision) -> Change:
    assert revision.change is not None  # unchanged listings are not written
    return revision.change


def _new_service(p: _Planned, now: datetime) -> dict[str, Any]:
    """A new listing's service row: what ``use_cases.apply_listing`` sets, and its start."""
    listing = p.listing
    return {
        "id": p.resolved.service_id,
        "organization_id": listing.organization.id or p.organization_id,
        "name": listing.name,
        "description": listing.description,
        "url": listing.url,
        "email": listing.email,
        "status": Status.ACTIVE.value,
        "capacity": listing.capacity.value,
        "referral_route": listing.referral_route.value,
        "minimum_age": listing.minimum_age,
        "maximum_age": listing.maximum_age,
        "free": listing.free,
        "fees": listing.fees,
        "eligibility": listing.eligibility,
        "document": p.document,
        "keywords": p.resolved.keywords,
        "last_verified_at": now,
        "version": p.revision.version,
        "withdrawn_reason": None,
        "created_at": now,
        "updated_at": now,
    }
