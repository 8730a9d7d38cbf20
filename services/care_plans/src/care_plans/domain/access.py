"""Who may use a person's record: a relationship, or a stated reason (break-glass).

Care-team members' teams (and named practitioners) may read and change the record; so may a
team with an open referral for the person (the referrer, the team it went to, the front
door). The person may read their own record. Anyone else may only break the glass to read,
with a reason that is audited and flagged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from care_plans.domain.document import CareTeamMember

# The statuses after which a referral no longer gives its teams a relationship.
CLOSED_REFERRAL = frozenset({"signposted", "declined", "completed", "withdrawn"})
FRONT_DOOR_ROLES = frozenset({"triager"})
PERSON_ROLE = "person"


class Relationship(StrEnum):
    CARE_TEAM = "care_team"
    OPEN_REFERRAL = "open_referral"
    SELF = "self"  # the person, reading their own record
    BREAK_GLASS = "break_glass"
    NONE = "none"


@dataclass(frozen=True)
class Caller:
    sub: str
    org: str | None
    roles: frozenset[str]
    teams: frozenset[str]
    neighbourhoods: frozenset[str]

    @property
    def is_person(self) -> bool:
        return PERSON_ROLE in self.roles


@dataclass(frozen=True)
class OpenReferral:
    referrer_org: str
    destination_id: str | None


def _in_care_team(caller: Caller, team: Iterable[CareTeamMember]) -> bool:
    groups = caller.teams | caller.neighbourhoods
    return any(
        (m.team is not None and m.team in groups)
        or (m.practitioner is not None and m.practitioner == caller.sub)
        for m in team
    )


def _has_open_referral(caller: Caller, referrals: Iterable[OpenReferral]) -> bool:
    groups = caller.teams | caller.neighbourhoods
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
    care_team: Iterable[CareTeamMember],
    open_referrals: Iterable[OpenReferral],
    *,
    broke_glass: bool = False,
) -> Relationship:
    if caller.is_person:
        # A person's token gives them their own record and nothing else.
        return Relationship.SELF if caller.sub == person_id else Relationship.NONE
    if _in_care_team(caller, care_team):
        return Relationship.CARE_TEAM
    if _has_open_referral(caller, open_referrals):
        return Relationship.OPEN_REFERRAL
    if broke_glass:
        return Relationship.BREAK_GLASS
    return Relationship.NONE


def may_read(r: Relationship) -> bool:
    return r is not Relationship.NONE


def may_change(r: Relationship) -> bool:
    return r in (Relationship.CARE_TEAM, Relationship.OPEN_REFERRAL)
