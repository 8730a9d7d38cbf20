"""Who may read a person's timeline: the same relationship rule as the shared care record.

A team in the person's care team, or a team with an open referral for them (the referrer's
organisation, the team or neighbourhood MDT it went to, the front door's triagers), may
read; the person may read their own. Break-glass access is granted by the care record,
which does not announce it, so the view has no break-glass of its own: an emergency reader
breaks the glass on the record itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

FRONT_DOOR_ROLES = frozenset({"triager"})
PERSON_ROLE = "person"


class Relationship(StrEnum):
    CARE_TEAM = "care_team"
    OPEN_REFERRAL = "open_referral"
    SELF = "self"
    NONE = "none"


@dataclass(frozen=True)
class Caller:
    sub: str
    org: str | None
    roles: frozenset[str]
    teams: frozenset[str]
    neighbourhoods: frozenset[str]


@dataclass(frozen=True)
class OpenReferral:
    referrer_org: str | None
    destination_id: str | None


def relationship(
    caller: Caller,
    person_id: str,
    care_teams: Iterable[str],
    open_referrals: Iterable[OpenReferral],
) -> Relationship:
    if PERSON_ROLE in caller.roles:
        return Relationship.SELF if caller.sub == person_id else Relationship.NONE
    groups = caller.teams | caller.neighbourhoods
    if any(team in groups for team in care_teams):
        return Relationship.CARE_TEAM
    for r in open_referrals:
        if caller.roles & FRONT_DOOR_ROLES:
            return Relationship.OPEN_REFERRAL
        if caller.org is not None and caller.org == r.referrer_org:
            return Relationship.OPEN_REFERRAL
        if r.destination_id is not None and r.destination_id in groups:
            return Relationship.OPEN_REFERRAL
    return Relationship.NONE
