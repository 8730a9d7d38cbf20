"""The directory's listings, kept only for the current name of a service a person was
referred or signposted to (timeline entries name it when read).

The four listing events carry different fields (a capacity change has no organisation, a
withdrawal no capacity), so each field keeps the version of the change that last set it:
a late older event still fills in a field that no newer event has carried."""

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
from mdt.handlers.common import changes, mark_fresh, router
from mdt.store.poll import Record
from mdt.store.tables import DirectoryServiceRow

Listing = (
    DirectoryServicePublishedV1
    | DirectoryServiceUpdatedV1
    | DirectoryCapacityChangedV1
    | DirectoryServiceWithdrawnV1
)
# Between changes of one listing version, the later kind of change wins.
RANK = {
    DirectoryServicePublishedV1: 0,
    DirectoryServiceUpdatedV1: 1,
    DirectoryCapacityChangedV1: 2,
    DirectoryServiceWithdrawnV1: 3,
}
UNSET = (-1, -1)


def _packed(version: tuple[int, int]) -> int:
    return version[0] * len(RANK) + version[1]


def _unpacked(packed: int | None) -> tuple[int, int]:
    return UNSET if packed is None else divmod(packed, len(RANK))


# Each field and the column holding the version of the change that last set it.
GUARDS = {
    "organization_name": "organization_version",
    "status": "status_version",
    "capacity": "capacity_version",
}


def _fields(data: Listing) -> dict[str, str]:
    """The fields (besides the name) this kind of event carries."""
    if isinstance(data, DirectoryCapacityChangedV1):
        return {"capacity": data.capacity}
    if isinstance(data, DirectoryServiceWithdrawnV1):
        return {"status": "withdrawn"}
    return {
        "organization_name": data.organization_name,
        "status": data.status,
        "capacity": data.capacity,
    }


def _apply(uow: UnitOfWork, envelope: CloudEvent, data: Listing, service_id: uuid.UUID) -> None:
    incoming = (envelope.sequence or 1, RANK[type(data)])
    fields = _fields(data)

    def changed(row: Record) -> None:
        if wins(incoming, (row.sequence, row.rank)):
            row.name = data.name
            row.sequence, row.rank = incoming
        for field, value in fields.items():
            guard = GUARDS[field]
            if wins(incoming, _unpacked(getattr(row, guard))):
                setattr(row, field, value)
                setattr(row, guard, _packed(incoming))

    sequence, rank = UNSET
    changes(uow).change(
        DirectoryServiceRow,
        service_id,
        changed,
        name="",
        status="active",
        sequence=sequence,
        rank=rank,
    )
    mark_fresh(uow, envelope)


@router.on(DirectoryServicePublishedV1)
async def on_directory_service_published(
    event: Event[DirectoryServicePublishedV1], uow: UnitOfWork
) -> None:
    _apply(uow, event.envelope, event.data, event.data.service_id)


@router.on(DirectoryServiceUpdatedV1)
async def on_directory_service_updated(
    event: Event[DirectoryServiceUpdatedV1], uow: UnitOfWork
) -> None:
    _apply(uow, event.envelope, event.data, event.data.service_id)


@router.on(DirectoryServiceWithdrawnV1)
async def on_directory_service_withdrawn(
    event: Event[DirectoryServiceWithdrawnV1], uow: UnitOfWork
) -> None:
    _apply(uow, event.envelope, event.data, event.data.service_id)


@router.on(DirectoryCapacityChangedV1)
async def on_directory_capacity_changed(
    event: Event[DirectoryCapacityChangedV1], uow: UnitOfWork
) -> None:
    _apply(uow, event.envelope, event.data, event.data.service_id)
