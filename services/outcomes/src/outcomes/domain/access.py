"""Who may see and record a person's outcomes: the care plans rule.

Person-level results need a relationship: a team in the person's care team, or an open
referral for them (its referrer, the team or neighbourhood it went to, the front door); the
person may read their own. Aggregates go to analysts, published with small numbers hidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# Referrals that give their teams no relationship. A completed one still does: the team
# that delivered the support records the follow-up measure when it ends.
CLOSED_REFERRAL = frozenset({"signposted", "declined", "withdrawn"})
FRONT_DOOR_ROLE = "triager"
PERSON_ROLE = "person"
ADMIN_ROLE = "admin"
ANALYST_ROLES = ("analyst", "admin")


class Relationship(StrEnum):
    ADMIN = "admin"
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
class TeamMember:
    team: str | None
    organisation: str | None


@dataclass(frozen=True)
class OpenReferral:
    referrer_org: str | None
    destination_id: str | None


def relationship(
    caller: Caller,
    person_id: str,
    care_team: Iterable[TeamMember],
    referrals: Iterable[OpenReferral],
) -> Relationship:
    if PERSON_ROLE in caller.roles:
        # A person's token gives them their own results and nothing else.
        return Relationship.SELF if caller.sub == person_id else Relationship.NONE
    if ADMIN_ROLE in caller.roles:
        return Relationship.ADMIN
    groups = caller.teams | caller.neighbourhoods
    if any(m.team is not None and m.team in groups for m in care_team):
        return Relationship.CARE_TEAM
    for r in referrals:
        if FRONT_DOOR_ROLE in caller.roles:
            return Relationship.OPEN_REFERRAL
        if caller.org is not None and caller.org == r.referrer_org:
            return Relationship.OPEN_REFERRAL
        if r.destination_id is not None and r.destination_id in groups:
            return Relationship.OPEN_REFERRAL
    return Relationship.NONE


def may_read(r: Relationship) -> bool:
    return r is not Relationship.NONE


def may_record(r: Relationship) -> bool:
    """The person cannot record their own validated measures here (a practitioner
    administers them); every other relationship can."""
    return r not in (Relationship.NONE, Relationship.SELF)
