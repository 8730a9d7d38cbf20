"""The referral lifecycle as an explicit state machine.

received ─claim→ in_triage ─decide→ accepted | routed | signposted | more_info_requested | declined
accepted | routed ─start→ in_progress ─complete→ completed
more_info_requested ─info_provided→ in_triage;  in_triage ─unclaim→ received
any open state ─withdraw→ withdrawn

A triager may decide without claiming first (the claim is implied). Anything else is an
illegal move, refused with the current state named.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache


class Status(StrEnum):
    RECEIVED = "received"
    IN_TRIAGE = "in_triage"
    ACCEPTED = "accepted"
    ROUTED = "routed"
    SIGNPOSTED = "signposted"
    MORE_INFO_REQUESTED = "more_info_requested"
    DECLINED = "declined"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    RECEIVE = "receive"  # how a referral enters: the first line of its history
    CLAIM = "claim"
    UNCLAIM = "unclaim"
    ACCEPT = "accept"
    ROUTE = "route"
    SIGNPOST = "signpost"
    REQUEST_INFO = "request_info"
    DECLINE = "decline"
    INFO_PROVIDED = "info_provided"
    START = "start"
    COMPLETE = "complete"
    WITHDRAW = "withdraw"


# The triage decisions, and the state each leads to.
DECISIONS: dict[Action, Status] = {
    Action.ACCEPT: Status.ACCEPTED,
    Action.ROUTE: Status.ROUTED,
    Action.SIGNPOST: Status.SIGNPOSTED,
    Action.REQUEST_INFO: Status.MORE_INFO_REQUESTED,
    Action.DECLINE: Status.DECLINED,
}
UNTRIAGED = frozenset({Status.RECEIVED, Status.IN_TRIAGE})
TERMINAL = frozenset({Status.SIGNPOSTED, Status.DECLINED, Status.COMPLETED, Status.WITHDRAWN})
OPEN = frozenset(Status) - TERMINAL

_MOVES: dict[tuple[Status, Action], Status] = {
    (Status.RECEIVED, Action.CLAIM): Status.IN_TRIAGE,
    (Status.IN_TRIAGE, Action.UNCLAIM): Status.RECEIVED,
    (Status.MORE_INFO_REQUESTED, Action.INFO_PROVIDED): Status.IN_TRIAGE,
    (Status.ACCEPTED, Action.START): Status.IN_PROGRESS,
    (Status.ROUTED, Action.START): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, Action.COMPLETE): Status.COMPLETED,
    **{(state, decision): to for state in UNTRIAGED for decision, to in DECISIONS.items()},
    **{(state, Action.WITHDRAW): Status.WITHDRAWN for state in OPEN},
}


class IllegalTransition(ValueError):
    def __init__(self, current: Status, action: Action) -> None:
        allowed = ", ".join(sorted(a.value for a in allowed_actions(current))) or "none"
        super().__init__(
            f"cannot {action.value} a referral that is {current.value}; allowed: {allowed}"
        )
        self.current = current
        self.action = action


def next_status(current: Status, action: Action) -> Status:
    try:
        return _MOVES[(current, action)]
    except KeyError:
        raise IllegalTransition(current, action) from None


@cache
def allowed_actions(current: Status) -> frozenset[Action]:
    return frozenset(action for (state, action) in _MOVES if state == current)
