"""Events published by the directory service on ``carethread.directory.v1``.

They are keyed by the directory service id (they are about a service, not a person), so every
change to one listing stays in order; ``sequence`` on the envelope is the listing's version and
lets a consumer ignore a stale or repeated change.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from carethread.events import topics
from carethread.events.registry import EventData, registry

# How a service takes people on: the front door may route a formal referral only to a
# service that accepts them; the others are signposted.
REFERRAL_ROUTES = ("formal_referral", "with_support", "self_referral", "signpost_only")
# Capacity as the directory records it: a full service takes no new referrals.
CAPACITY_STATUSES = ("accepting", "waiting_list", "full")


class _ServiceListing(EventData):
    """What a consumer needs to show a service and decide whether it can take a referral."""

    service_id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    organization_name: str
    status: str  # active | withdrawn
    capacity: str  # one of CAPACITY_STATUSES
    referral_route: str  # one of REFERRAL_ROUTES
    taxonomy_codes: list[str]
    boroughs: list[str]
    changed_at: datetime


@registry.register
class DirectoryServicePublishedV1(_ServiceListing):
    """A service was listed in the directory (created or imported)."""

    event_type: ClassVar[str] = "carethread.directory-service.published.v1"
    topic: ClassVar[str] = topics.DIRECTORY
    source_service: ClassVar[str] = "directory"


@registry.register
class DirectoryServiceUpdatedV1(_ServiceListing):
    """A listed service changed (name, organisation, eligibility, how to refer, ...)."""

    event_type: ClassVar[str] = "carethread.directory-service.updated.v1"
    topic: ClassVar[str] = topics.DIRECTORY
    source_service: ClassVar[str] = "directory"


@registry.register
class DirectoryServiceWithdrawnV1(EventData):
    """A service was withdrawn: it takes no referrals and drops out of search."""

    event_type: ClassVar[str] = "carethread.directory-service.withdrawn.v1"
    topic: ClassVar[str] = topics.DIRECTORY
    source_service: ClassVar[str] = "directory"

    service_id: uuid.UUID
    name: str
    reason: str | None = None
    changed_at: datetime


@registry.register
class DirectoryCapacityChangedV1(EventData):
    """A service's capacity moved between accepting, waiting list and full."""

    event_type: ClassVar[str] = "carethread.directory-service.capacity-changed.v1"
    topic: ClassVar[str] = topics.DIRECTORY
    source_service: ClassVar[str] = "directory"

    service_id: uuid.UUID
    name: str
    previous: str
    capacity: str
    changed_at: datetime
