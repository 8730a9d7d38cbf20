"""Who may use a person's record: the platform's one rule, applied by every service that
holds person-level data (the shared care plan, the MDT view, outcome measures).

A caller has a relationship with a person when their team or neighbourhood (or, named, the
practitioner themselves) is in the person's care team, or when a referral for the person is
open and the caller is its referrer's organisation, the team or neighbourhood it went to, or
the front door's triagers. The person has one with their own record and no other. Anyone
else has none, unless the service lets them break the glass.

Each service knows its care team in its own shape, so it answers "is the caller in it?"
itself (``Caller.groups`` is what a team is matched against) and passes the answer in.
Pure: no I/O, no framework.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

FRONT_DOOR_ROLES = frozenset({"triager"})
PERSON_ROLE = "person"


class Relationship(StrEnum):
    CARE_TEAM = "care_team"
    OPEN_REFERRAL = "open_referral"
    SELF = "self"  # the person, reading their own record
    BREAK_GLASS = "break_glass"  # no relationship, a stated reason instead (audited)
    NONE = "none"


@dataclass(frozen=True)
class Caller:
    """The parts of a verified token the rule looks at."""

    sub: str
    org: str | None
    roles: frozenset[str]
    teams: frozenset[str]
    neighbourhoods: frozenset[str]

    @property
    def is_person(self) -> bool:
        return PERSON_ROLE in self.roles

    @property
    def groups(self) -> frozenset[str]:
        """The teams and neighbourhood MDTs the caller works in."""
        return self.teams | self.neighbourhoods


@dataclass(frozen=True)
class OpenReferral:
    """A referral for the person that has not been closed."""

    referrer_org: str | None
    destination_id: str | None  # the team or neighbourhood it was routed to, once routed


def serves_open_referral(caller: Caller, referrals: Iterable[OpenReferral]) -> bool:
    """The caller referred the person, receives the referral, or triages at the front door."""
    groups = caller.groups
    for r in referrals:
        if caller.roles & FRONT_DOOR_ROLES:
            return True
        if caller.org is not None and caller.org == r.referrer_org:
            return True
        if r.destination_id is not None and r.destination_id in groups:
            return True
    return False


def relationship(
    caller: Caller,
    person_id: str,
    *,
    in_care_team: bool,
    open_referrals: Iterable[OpenReferral],
    broke_glass: bool = False,
) -> Relationship:
    if caller.is_person:
        # A person's token gives them their own record and nothing else.
        return Relationship.SELF if caller.sub == person_id else Relationship.NONE
    if in_care_team:
        return Relationship.CARE_TEAM
    if serves_open_referral(caller, open_referrals):
        return Relationship.OPEN_REFERRAL
    if broke_glass:
        return Relationship.BREAK_GLASS
    return Relationship.NONE
