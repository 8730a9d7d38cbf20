"""Moving a referral through its lifecycle: triage decisions and the moves around them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from referrals.domain.lifecycle import DECISIONS, Action, Status, next_status
from referrals.domain.referral import Destination, DestinationKind, Referral, ReferralRejected

# What each decision must say, so the referrer and the receiving team know what happened.
_DESTINATIONS = {
    Action.ACCEPT: frozenset({DestinationKind.NEIGHBOURHOOD_MDT, DestinationKind.TEAM}),
    Action.ROUTE: frozenset({DestinationKind.SERVICE}),
}
_NEEDS_REASON = {
    Action.DECLINE: "a decline needs a reason",
    Action.REQUEST_INFO: "a request for information needs the question for the referrer",
    Action.SIGNPOST: "a signpost needs to say where the person was signposted to",
    Action.WITHDRAW: "a withdrawal needs a reason",
}


@dataclass(frozen=True)
class Move:
    action: Action
    actor: str
    actor_org: str
    at: datetime
    reason: str | None = None
    destination: Destination | None = None
    health_signoff: str | None = None
    social_care_signoff: str | None = None

    @property
    def is_decision(self) -> bool:
        return self.action in DECISIONS


def _check(move: Move) -> None:
    allowed = _DESTINATIONS.get(move.action)
    if allowed is not None:
        if move.destination is None:
            raise ReferralRejected("destination", f"{move.action.value} needs a destination")
        if move.destination.kind not in allowed:
            kinds = " or ".join(sorted(k.value for k in allowed))
            raise ReferralRejected("destination.kind", f"{move.action.value} goes to a {kinds}")
    elif move.destination is not None:
        raise ReferralRejected("destination", f"{move.action.value} takes no destination")
    need = _NEEDS_REASON.get(move.action)
    if need and not (move.reason or "").strip():
        raise ReferralRejected("reason", need)


def apply(referral: Referral, move: Move) -> Referral:
    """The referral after ``move``; IllegalTransition or ReferralRejected if it cannot be."""
    to = next_status(referral.status, move.action)
    _check(move)
    claimed_by = referral.claimed_by
    if move.action is Action.CLAIM:
        claimed_by = move.actor
    elif move.action is Action.UNCLAIM:
        claimed_by = None
    return dataclasses.replace(
        referral,
        status=to,
        version=referral.version + 1,
        status_changed_at=move.at,
        claimed_by=claimed_by,
        triaged_at=referral.triaged_at or (move.at if move.is_decision else None),
        destination=move.destination if move.is_decision else referral.destination,
    )


def is_untriaged(status: Status) -> bool:
    return status in (Status.RECEIVED, Status.IN_TRIAGE)
