"""Who may see and record a person's outcomes: the platform's care-relationship rule
(``carethread.relationships``), as the care plans record applies it, and admins.

Person-level results need a relationship: a team in the person's care team, or an open
referral for them (its referrer, the team or neighbourhood it went to, the front door); the
person may read their own. Aggregates go to analysts, published with small numbers hidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from carethread.relationships import Caller, OpenReferral
from carethread.relationships import relationship as care_relationship

__all__ = [
    "ANALYST_ROLES",
    "CLOSED_REFERRAL",
    "Caller",
    "OpenReferral",
    "Relationship",
    "TeamMember",
    "may_read",
    "may_record",
    "relationship",
]

# Referrals that give their teams no relationship. A completed one still does: the team
# that delivered the support records the follow-up measure when it ends.
CLOSED_REFERRAL = frozenset({"signposted", "declined", "withdrawn"})
ADMIN_ROLE = "admin"
ANALYST_ROLES = ("analyst", "admin")


class Relationship(StrEnum):
    ADMIN = "admin"
    CARE_TEAM = "care_team"
    OPEN_REFERRAL = "open_referral"
    SELF = "self"
    NONE = "none"


@dataclass(frozen=True)
class TeamMember:
    team: str | None
    organisation: str | None


def relationship(
    caller: Caller,
    person_id: str,
    care_team: Iterable[TeamMember],
    referrals: Iterable[OpenReferral],
) -> Relationship:
    if ADMIN_ROLE in caller.roles and not caller.is_person:
        return Relationship.ADMIN
    groups = caller.groups
    related = care_relationship(
        caller,
        person_id,
        in_care_team=any(m.team is not None and m.team in groups for m in care_team),
        open_referrals=referrals,
    )
    return Relationship(related.value)  # never break-glass: outcomes has none


def may_read(r: Relationship) -> bool:
    return r is not Relationship.NONE


def may_record(r: Relationship) -> bool:
    """The person cannot record their own validated measures here (a practitioner
    administers them); every other relationship can."""
    return r not in (Relationship.NONE, Relationship.SELF)
