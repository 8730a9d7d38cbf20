"""Who may read a person's timeline: the same relationship rule as the shared care record.

A team in the person's care team, or a team with an open referral for them (the referrer's
organisation, the team or neighbourhood MDT it went to, the front door's triagers), may
read; the person may read their own. Break-glass access is granted by the care record,
which does not announce it, so the view has no break-glass of its own: an emergency reader
breaks the glass on the record itself. The rule is the platform's
(``carethread.relationships``).
"""

from __future__ import annotations

from collections.abc import Iterable

from carethread.relationships import Caller, OpenReferral, Relationship
from carethread.relationships import relationship as platform_relationship

__all__ = ["Caller", "OpenReferral", "Relationship", "relationship"]


def relationship(
    caller: Caller,
    person_id: str,
    care_teams: Iterable[str],
    open_referrals: Iterable[OpenReferral],
) -> Relationship:
    """``care_teams``: the teams the care record has announced for the person."""
    groups = caller.groups
    return platform_relationship(
        caller,
        person_id,
        in_care_team=any(team in groups for team in care_teams),
        open_referrals=open_referrals,
    )
