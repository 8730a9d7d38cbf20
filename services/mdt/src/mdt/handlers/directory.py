"""The directory's listings, kept only for the current name of a service a person was
referred or signposted to (timeline entries name it when read)."""

from __future__ import annotations

import uuid

from carethread.db import UnitOfWork
from carethread.events import CloudEvent, Event
from carethread.events.directory import (
    DirectoryCapacityChangedV1,
    DirectoryServicePublishedV1,
    DirectoryServiceUpdatedV1,
    DirectoryServiceWithdrawnV1,
)
from mdt.domain.freshness import wins
from mdt.handlers.common import mark_fresh, router
from mdt.store.tables import DirectoryServiceRow

# Between changes of one listing version, the later kind of change wins.
RANK = {
    DirectoryServicePublishedV1: 0,
    DirectoryServiceUpdatedV1: 1,
    DirectoryCapacityChangedV1: 2,
    DirectoryServiceWithdrawnV1: 3,
}


async def _listing(
    uow: UnitOfWork,
    envelope: CloudEvent,
    data: DirectoryServicePublishedV1
    | DirectoryServiceUpdatedV1
    | DirectoryCapacityChangedV1
    | DirectoryServiceWithdrawnV1,
    service_id: uuid.UUID,
) -> DirectoryServiceRow | None:
    """The listing's row if this change is newer than the one it holds, else None."""
    row = await uow.session.get(DirectoryServiceRow, service_id)
    incoming = (envelope.sequence or 1, RANK[type(data)])
    if row is None:
        row = DirectoryServiceRow(service_id=service_id, name="", status="active")
        row.sequence, row.rank = -1, -1
        uow.session.add(row)
    await mark_fresh(uow, envelope)
    if not wins(incoming, (row.sequence, row.rank)):
        return None
    row.sequence, row.rank = incoming
    return row


async def _listed(
    uow: UnitOfWork, event: Event[DirectoryServicePublishedV1] | Event[DirectoryServiceUpdatedV1]
) -> None:
    d = event.data
    row = await _listing(uow, event.envelope, d, d.service_id)
    if row is not None:
        row.name, row.organization_name = d.name, d.organization_name
        row.status, row.capacity = d.status, d.capacity


@router.on(DirectoryServicePublishedV1)
async def on_directory_service_published(
    event: Event[DirectoryServicePublishedV1], uow: UnitOfWork
) -> None:
    await _listed(uow, event)


@router.on(DirectoryServiceUpdatedV1)
async def on_directory_service_updated(
    event: Event[DirectoryServiceUpdatedV1], uow: UnitOfWork
) -> None:
    await _listed(uow, event)


@router.on(DirectoryServiceWithdrawnV1)
async def on_directory_service_withdrawn(
    event: Event[DirectoryServiceWithdrawnV1], uow: UnitOfWork
) -> None:
    d = event.data
    row = await _listing(uow, event.envelope, d, d.service_id)
    if row is not None:
        row.name, row.status = d.name, "withdrawn"


@router.on(DirectoryCapacityChangedV1)
async def on_directory_capacity_changed(
    event: Event[DirectoryCapacityChangedV1], uow: UnitOfWork
) -> None:
    d = event.data
    row = await _listing(uow, event.envelope, d, d.service_id)
    if row is not None:
        row.name, row.capacity = d.name, d.capacity
