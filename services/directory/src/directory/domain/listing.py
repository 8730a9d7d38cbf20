"""A directory listing's rules: its states, what a change does to it, and when it goes stale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Capacity(StrEnum):
    """Mirrors ``carethread.events.directory.CAPACITY_STATUSES``."""

    ACCEPTING = "accepting"
    WAITING_LIST = "waiting_list"
    FULL = "full"


class ReferralRoute(StrEnum):
    """Mirrors ``carethread.events.directory.REFERRAL_ROUTES``: only the first takes formal
    referrals from the front door; the others are for signposting."""

    FORMAL_REFERRAL = "formal_referral"
    WITH_SUPPORT = "with_support"
    SELF_REFERRAL = "self_referral"
    SIGNPOST_ONLY = "signpost_only"


class DeliveryMode(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    ONLINE = "online"
    HOME_VISIT = "home_visit"


class Change(StrEnum):
    """What a write did to a listing; each is one entry in its edit history."""

    PUBLISHED = "published"
    UPDATED = "updated"
    CAPACITY_CHANGED = "capacity_changed"
    WITHDRAWN = "withdrawn"
    REINSTATED = "reinstated"
    VERIFIED = "verified"


class ListingRefused(ValueError):
    """A change the listing's state does not allow (answered 409)."""


@dataclass(frozen=True)
class Revision:
    """The outcome of a write: the change (None when nothing moved) and the new version."""

    change: Change | None
    version: int
    changes: dict[str, list[Any]]


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value differs."""
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


def revise(
    status: Status, version: int, before: Mapping[str, Any], after: Mapping[str, Any]
) -> Revision:
    """An edit of an active listing. Capacity alone is a capacity change (its own event);
    anything else is an update, whose event carries the capacity too."""
    if status is Status.WITHDRAWN:
        raise ListingRefused("The service is withdrawn: reinstate it before editing it.")
    changes = changed_fields(before, after)
    if not changes:
        return Revision(None, version, {})
    kind = Change.CAPACITY_CHANGED if set(changes) == {"capacity"} else Change.UPDATED
    return Revision(kind, version + 1, changes)


def withdraw(status: Status, version: int) -> Revision:
    if status is Status.WITHDRAWN:
        raise ListingRefused("The service is already withdrawn.")
    return Revision(Change.WITHDRAWN, version + 1, {"status": ["active", "withdrawn"]})


def reinstate(status: Status, version: int) -> Revision:
    if status is Status.ACTIVE:
        raise ListingRefused("The service is active already.")
    return Revision(Change.REINSTATED, version + 1, {"status": ["withdrawn", "active"]})


def is_stale(last_verified_at: datetime | None, now: datetime, max_age: timedelta) -> bool:
    """A listing nobody has confirmed within ``max_age`` can no longer be trusted as is."""
    return last_verified_at is None or now - last_verified_at > max_age


def check_age_range(minimum: int | None, maximum: int | None) -> None:
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValueError("minimum_age is above maximum_age")
