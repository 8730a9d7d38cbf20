"""What the directory publishes: one event per write of a listing, keyed by the service id,
with the listing's version as ``sequence``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from carethread.events import CloudEvent, new_event
from carethread.events.directory import (
    DirectoryCapacityChangedV1,
    DirectoryServicePublishedV1,
    DirectoryServiceUpdatedV1,
    DirectoryServiceWithdrawnV1,
)
from carethread.events.registry import EventData
from directory.domain.listing import Change


class ListingFacts(Protocol):
    """What an event says of a listing: a stored ``ServiceRow``, or the values of one just
    inserted (``saving_many``)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def organization_id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def capacity(self) -> str: ...
    @property
    def referral_route(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def withdrawn_reason(self) -> str | None: ...


LISTING_EVENTS: dict[Change, type[DirectoryServicePublishedV1 | DirectoryServiceUpdatedV1]] = {
    Change.PUBLISHED: DirectoryServicePublishedV1,
    # A reinstated service is listed again: consumers treat it as newly published.
    Change.REINSTATED: DirectoryServicePublishedV1,
    Change.UPDATED: DirectoryServiceUpdatedV1,
}


def listing_event(
    change: Change,
    row: ListingFacts,
    *,
    organization_name: str,
    taxonomy: list[str],
    boroughs: list[str],
    previous_capacity: str | None = None,
    at: datetime,
) -> CloudEvent | None:
    """The event for ``change`` (None for one that consumers need not hear of)."""
    data: EventData
    if change in LISTING_EVENTS:
        data = LISTING_EVENTS[change](
            service_id=row.id,
            organization_id=row.organization_id,
            name=row.name,
            organization_name=organization_name,
            status=row.status,
            capacity=row.capacity,
            referral_route=row.referral_route,
            taxonomy_codes=taxonomy,
            boroughs=boroughs,
            changed_at=at,
        )
    elif change is Change.CAPACITY_CHANGED:
        data = DirectoryCapacityChangedV1(
            service_id=row.id,
            name=row.name,
            previous=previous_capacity or row.capacity,
            capacity=row.capacity,
            changed_at=at,
        )
    elif change is Change.WITHDRAWN:
        data = DirectoryServiceWithdrawnV1(
            service_id=row.id, name=row.name, reason=row.withdrawn_reason, changed_at=at
        )
    else:
        return None
    return new_event(data, subject=str(row.id), person_id=None, sequence=row.version)
