"""Who may use a person's record: a relationship, or a stated reason (break-glass).

Care-team members' teams (and named practitioners) may read and change the record; so may a
team with an open referral for the person (the referrer, the team it went to, the front
door). The person may read their own record. Anyone else may only break the glass to read,
with a reason that is audited and flagged. The rule is the platform's
(``carethread.relationships``); what is this service's own is its care team's shape.
"""

from __future__ import annotations

from collections.abc import Iterable

from care_plans.domain.document import CareTeamMember
from carethread.relationships import Caller, OpenReferral, Relationship
from carethread.relationships import relationship as platform_relationship

__all__ = [
    "CLOSED_REFERRAL",
    "Caller",
    "OpenReferral",
    "Relationship",
    "in_care_team",
    "may_change",
    "may_read",
    "relationship",
]

# The statuses after which a referral no longer gives its teams a relationship.
CLOSED_REFERRAL = frozenset({"signposted", "declined", "completed", "withdrawn"})


def in_care_team(caller: Caller, team: Iterable[CareTeamMember]) -> bool:
    """A member is a team (matched against the caller's teams and neighbourhoods) or a
    named practitioner (matched against the caller themselves)."""
    groups = caller.groups
    return any(
        (m.team is not None and m.team in groups)
        or (m.practitioner is not None and m.practitioner == caller.sub)
        for m in team
    )


def relationship(
    caller: Caller,
    person_id: str,
    care_team: Iterable[CareTeamMember],
    open_referrals: Iterable[OpenReferral],
    *,
    broke_glass: bool = False,
) -> Relationship:
    return platform_relationship(
        caller,
        person_id,
        in_care_team=in_care_team(caller, care_team),
        open_referrals=open_referrals,
        broke_glass=broke_glass,
    )


def may_read(r: Relationship) -> bool:
    return r is not Relationship.NONE


def may_change(r: Relationship) -> bool:
    return r in (Relationship.CARE_TEAM, Relationship.OPEN_REFERRAL)
