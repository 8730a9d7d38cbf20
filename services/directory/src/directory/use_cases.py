"""Use cases of the curator API and the importer: they add rows to the unit of work and
flush; the entrypoint commits. Every write that consumers must hear of adds its event to the
outbox in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, or_, select

from carethread.auth import Principal
from carethread.db import UnitOfWork
from carethread.errors import Conflict, NotFound, PreconditionFailed
from carethread.events.directory import DirectoryServicePublishedV1
from carethread.messaging import add_to_outbox
from directory import events
from directory.api.schemas import ServiceIn, ServicePatch
from directory.domain import listing as rules
from directory.domain.listing import Capacity, Change, ListingRefused, Revision, Status
from directory.resolve import resolve
from directory.store import listings as store
from directory.store import search_rows
from directory.store.tables import OrganizationRow, ServiceRow
from directory.store.taxonomy import Terms, load_terms


@dataclass(frozen=True)
class Written:
    row: ServiceRow
    change: Change | None
    event_id: uuid.UUID | None
    warnings: list[str] = field(default_factory=list)


async def service_or_404(uow: UnitOfWork, service_id: uuid.UUID) -> ServiceRow:
    row = await uow.session.get(ServiceRow, service_id)
    if row is None:
        raise NotFound(f"No service {service_id} in the directory.")
    return row


def check_version(row: ServiceRow, expected: int | None) -> None:
    if expected is not None and expected != row.version:
        raise PreconditionFailed(
            f"The service is at version {row.version}, not {expected}: read it again."
        )


async def organization_id(uow: UnitOfWork, body: ServiceIn) -> uuid.UUID:
    org = body.organization
    if org.id is not None:
        return org.id
    return await store.organization_named(uow.session, org.name) or uuid.uuid4()


class PublishedListing(events.ListingFacts, Protocol):
    """A listing an event is made of: its facts, and its document (organisation's name,
    taxonomy, boroughs)."""

    @property
    def document(self) -> dict[str, Any]: ...


async def publish(
    uow: UnitOfWork,
    change: Change,
    row: PublishedListing,
    *,
    at: datetime,
    previous_capacity: str | None = None,
) -> uuid.UUID | None:
    doc = row.document
    event = events.listing_event(
        change,
        row,
        organization_name=doc["organization"]["name"],
        taxonomy=list(doc.get("taxonomy", [])),
        boroughs=list(doc.get("boroughs", [])),
        previous_capacity=previous_capacity,
        at=at,
    )
    if event is None:
        return None
    await add_to_outbox(uow, event, topic=DirectoryServicePublishedV1.topic, key=str(row.id))
    return event.id


async def record(
    uow: UnitOfWork,
    row: ServiceRow,
    revision: Revision,
    principal: Principal,
    at: datetime,
    *,
    reason: str | None = None,
    previous_capacity: str | None = None,
) -> uuid.UUID | None:
    assert revision.change is not None
    await store.add_revision(
        uow.session,
        service_id=row.id,
        version=revision.version,
        change=revision.change.value,
        actor=principal.sub,
        actor_org=principal.org,
        at=at,
        changes=revision.changes,
        reason=reason,
    )
    return await publish(uow, revision.change, row, at=at, previous_capacity=previous_capacity)


def apply_listing(
    row: ServiceRow, listing: ServiceIn, document: dict[str, Any], keywords: str
) -> None:
    row.organization_id = listing.organization.id or row.organization_id
    row.name = listing.name
    row.description = listing.description
    row.url = listing.url
    row.email = listing.email
    row.capacity = listing.capacity.value
    row.referral_route = listing.referral_route.value
    row.minimum_age = listing.minimum_age
    row.maximum_age = listing.maximum_age
    row.free = listing.free
    row.fees = listing.fees
    row.eligibility = listing.eligibility
    row.document = document
    row.keywords = keywords


async def save_listing(
    uow: UnitOfWork,
    body: ServiceIn,
    principal: Principal,
    *,
    now: datetime,
    terms: Terms | None = None,
    must_be_new: bool = False,
    strict: bool = True,
    expected_version: int | None = None,
    reason: str | None = None,
) -> Written:
    """Create the listing, or update it if its id is known; nothing is written (and no
    event published) when the listing is unchanged. ``reason`` goes into the history."""
    session = uow.session
    service_id = body.id or uuid.uuid4()
    existing = await session.get(ServiceRow, service_id)
    if existing is not None and must_be_new:
        raise Conflict(f"Service {service_id} is in the directory already.")
    if existing is not None:
        check_version(existing, expected_version)
    resolved = resolve(body, terms or await load_terms(session), service_id, strict=strict)
    org_id = await organization_id(uow, body)
    listing = resolved.listing.model_copy(
        update={"organization": resolved.listing.organization.model_copy(update={"id": org_id})}
    )
    document = listing.model_dump(mode="json", exclude={"id"})
    if existing is not None:
        try:
            revision = rules.revise(
                Status(existing.status), existing.version, existing.document, document
            )
        except ListingRefused as e:
            raise Conflict(str(e)) from e
        if revision.change is None:
            return Written(existing, None, None, resolved.warnings)
    org = listing.organization
    await store.save_organization(session, org.model_dump() | {"id": org_id, "updated_at": now})
    for location in resolved.locations:
        await store.save_location(session, location)
    previous_capacity = existing.capacity if existing is not None else None
    if existing is None:
        row = ServiceRow(
            id=service_id,
            organization_id=org_id,
            status=Status.ACTIVE.value,
            version=1,
            created_at=now,
            last_verified_at=now,
        )
        revision = Revision(Change.PUBLISHED, 1, {})
        session.add(row)
    else:
        row = existing
    apply_listing(row, listing, document, resolved.keywords)
    row.version = revision.version
    row.updated_at = now
    await session.flush()
    await store.replace_index(session, service_id, resolved.indexed)
    await store.index_text(session, row)
    event_id = await record(
        uow, row, revision, principal, now, reason=reason, previous_capacity=previous_capacity
    )
    await session.flush()
    return Written(row, revision.change, event_id, resolved.warnings)


def listing_of(row: ServiceRow) -> ServiceIn:
    return ServiceIn.model_validate(row.document | {"id": row.id})


async def update_service(
    uow: UnitOfWork,
    service_id: uuid.UUID,
    patch: ServicePatch,
    principal: Principal,
    *,
    now: datetime,
    expected_version: int | None,
    reason: str | None = None,
) -> Written:
    row = await service_or_404(uow, service_id)
    check_version(row, expected_version)
    if row.status == Status.WITHDRAWN:
        raise Conflict("The service is withdrawn: reinstate it before editing it.")
    merged = listing_of(row).model_dump() | patch.model_dump(exclude_unset=True)
    body = ServiceIn.model_validate(merged)
    return await save_listing(
        uow, body, principal, now=now, expected_version=expected_version, reason=reason
    )


async def change_capacity(
    uow: UnitOfWork,
    service_id: uuid.UUID,
    capacity: Capacity,
    principal: Principal,
    *,
    now: datetime,
    expected_version: int | None = None,
) -> Written:
    row = await service_or_404(uow, service_id)
    check_version(row, expected_version)
    previous = row.capacity
    try:
        revision = rules.revise(
            Status(row.status), row.version, {"capacity": previous}, {"capacity": capacity.value}
        )
    except ListingRefused as e:
        raise Conflict(str(e)) from e
    if revision.change is None:
        return Written(row, None, None)
    row.capacity = capacity.value
    row.document = row.document | {"capacity": capacity.value}
    row.version, row.updated_at = revision.version, now
    await search_rows.refresh(uow.session, [row.id])
    event_id = await record(uow, row, revision, principal, now, previous_capacity=previous)
    await uow.session.flush()
    return Written(row, revision.change, event_id)


async def withdraw_service(
    uow: UnitOfWork,
    service_id: uuid.UUID,
    reason: str,
    principal: Principal,
    *,
    now: datetime,
    expected_version: int | None = None,
) -> Written:
    row = await service_or_404(uow, service_id)
    check_version(row, expected_version)
    try:
        revision = rules.withdraw(Status(row.status), row.version)
    except ListingRefused as e:
        raise Conflict(str(e)) from e
    row.status, row.withdrawn_reason = Status.WITHDRAWN.value, reason
    row.version, row.updated_at = revision.version, now
    await store.index_text(uow.session, row)  # out of search
    event_id = await record(uow, row, revision, principal, now, reason=reason)
    await uow.session.flush()
    return Written(row, revision.change, event_id)


async def reinstate_service(
    uow: UnitOfWork, service_id: uuid.UUID, principal: Principal, *, now: datetime
) -> Written:
    row = await service_or_404(uow, service_id)
    try:
        revision = rules.reinstate(Status(row.status), row.version)
    except ListingRefused as e:
        raise Conflict(str(e)) from e
    row.status, row.withdrawn_reason = Status.ACTIVE.value, None
    row.version, row.updated_at = revision.version, now
    await store.index_text(uow.session, row)
    event_id = await record(uow, row, revision, principal, now)
    await uow.session.flush()
    return Written(row, revision.change, event_id)


async def verify_service(
    uow: UnitOfWork,
    service_id: uuid.UUID,
    principal: Principal,
    *,
    now: datetime,
    note: str | None = None,
) -> Written:
    """A curator confirmed the listing is right: no new version, no event, a history entry."""
    row = await service_or_404(uow, service_id)
    previous = row.last_verified_at
    row.last_verified_at = now
    await store.add_revision(
        uow.session,
        service_id=row.id,
        version=row.version,
        change=Change.VERIFIED.value,
        actor=principal.sub,
        actor_org=principal.org,
        at=now,
        changes={"last_verified_at": [previous.isoformat() if previous else None, now.isoformat()]},
        reason=note,
    )
    await uow.session.flush()
    return Written(row, Change.VERIFIED, None)


async def stale_services(
    uow: UnitOfWork, *, now: datetime, stale_after: timedelta, page: int, per_page: int
) -> tuple[int, list[tuple[ServiceRow, str]]]:
    """Active listings not verified within ``stale_after``, the longest unverified first."""
    cutoff = now - stale_after
    where = (ServiceRow.status == Status.ACTIVE.value) & or_(
        ServiceRow.last_verified_at.is_(None), ServiceRow.last_verified_at < cutoff
    )
    total = await uow.session.scalar(select(func.count()).select_from(ServiceRow).where(where))
    rows = await uow.session.execute(
        select(ServiceRow, OrganizationRow.name)
        .join(OrganizationRow, OrganizationRow.id == ServiceRow.organization_id)
        .where(where)
        .order_by(ServiceRow.last_verified_at.asc().nulls_first(), ServiceRow.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return total or 0, [(r, name) for r, name in rows.all()]
