"""What the front door consumes: the directory's listings, so that triage never routes a
referral to a service that has been withdrawn or is full. Each handler runs in the consumer's
unit of work with its inbox row; ``sequence`` (the listing's version) makes a late, older
change harmless."""

from __future__ import annotations

from carethread.db import UnitOfWork
from carethread.events import Event
from carethread.events.directory import (
    DirectoryCapacityChangedV1,
    DirectoryServicePublishedV1,
    DirectoryServiceUpdatedV1,
    DirectoryServiceWithdrawnV1,
)
from carethread.messaging import EventRouter
from referrals.store.tables import DirectoryServiceRow

router = EventRouter()


def _is_newer(event_sequence: int | None, row: DirectoryServiceRow) -> bool:
    return (event_sequence or 0) > row.version


async def _listing(
    event: Event[DirectoryServicePublishedV1] | Event[DirectoryServiceUpdatedV1],
    uow: UnitOfWork,
) -> None:
    d = event.data
    sequence = event.envelope.sequence or 1
    row = await uow.session.get(DirectoryServiceRow, d.service_id, with_for_update=True)
    if row is None:
        row = DirectoryServiceRow(service_id=d.service_id, version=0)
        uow.session.add(row)
    elif not _is_newer(sequence, row):
        return
    row.name = d.name
    row.organization_name = d.organization_name
    row.status = d.status
    row.capacity = d.capacity
    row.referral_route = d.referral_route
    row.version = sequence
    row.changed_at = d.changed_at


@router.on(DirectoryServicePublishedV1)
async def on_service_published(event: Event[DirectoryServicePublishedV1], uow: UnitOfWork) -> None:
    await _listing(event, uow)


@router.on(DirectoryServiceUpdatedV1)
async def on_service_updated(event: Event[DirectoryServiceUpdatedV1], uow: UnitOfWork) -> None:
    await _listing(event, uow)


@router.on(DirectoryServiceWithdrawnV1)
async def on_service_withdrawn(event: Event[DirectoryServiceWithdrawnV1], uow: UnitOfWork) -> None:
    d = event.data
    sequence = event.envelope.sequence or 1
    row = await uow.session.get(DirectoryServiceRow, d.service_id, with_for_update=True)
    if row is None:  # withdrawn before we saw it listed: remember, so it is never routed to
        uow.session.add(
            DirectoryServiceRow(
                service_id=d.service_id,
                name=d.name,
                status="withdrawn",
                capacity="full",
                version=sequence,
                changed_at=d.changed_at,
            )
        )
    elif _is_newer(sequence, row):
        row.status, row.version, row.changed_at = "withdrawn", sequence, d.changed_at


@router.on(DirectoryCapacityChangedV1)
async def on_capacity_changed(event: Event[DirectoryCapacityChangedV1], uow: UnitOfWork) -> None:
    d = event.data
    sequence = event.envelope.sequence or 1
    row = await uow.session.get(DirectoryServiceRow, d.service_id, with_for_update=True)
    if row is None:  # its listing is still on its way; the listing event will carry capacity
        return
    if _is_newer(sequence, row):
        row.capacity, row.version, row.changed_at = d.capacity, sequence, d.changed_at
