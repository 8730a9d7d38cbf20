"""The referral lifecycle and response-time rules: pure domain, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from referrals.domain.lifecycle import (
    DECISIONS,
    TERMINAL,
    Action,
    IllegalTransition,
    Status,
    allowed_actions,
    next_status,
)
from referrals.domain.referral import Urgency
from referrals.domain.sla import SlaTargets, add_working_days, is_breached, triage_due

FRIDAY_10AM = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def walk(*actions: Action) -> Status:
    state = Status.RECEIVED
    for action in actions:
        state = next_status(state, action)
    return state


def test_the_happy_path_from_the_door_to_completion() -> None:
    assert walk(Action.CLAIM, Action.ACCEPT, Action.START, Action.COMPLETE) == Status.COMPLETED
    assert walk(Action.ROUTE, Action.START) == Status.IN_PROGRESS  # claim implied
    assert walk(Action.CLAIM, Action.UNCLAIM) == Status.RECEIVED
    assert walk(Action.CLAIM, Action.REQUEST_INFO, Action.INFO_PROVIDED) == Status.IN_TRIAGE
    assert walk(Action.CLAIM, Action.REQUEST_INFO, Action.WITHDRAW) == Status.WITHDRAWN


@pytest.mark.parametrize(("decision", "outcome"), DECISIONS.items())
def test_every_decision_from_triage(decision: Action, outcome: Status) -> None:
    assert next_status(Status.IN_TRIAGE, decision) == outcome
    assert next_status(Status.RECEIVED, decision) == outcome


def test_terminal_states_allow_nothing() -> None:
    for state, action in product(TERMINAL, Action):
        with pytest.raises(IllegalTransition):
            next_status(state, action)
        assert allowed_actions(state) == frozenset()


def test_an_illegal_move_names_the_current_state_and_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition) as e:
        next_status(Status.ACCEPTED, Action.DECLINE)
    assert e.value.current == Status.ACCEPTED
    assert "accepted" in str(e.value)
    assert "start" in str(e.value)
    assert "withdraw" in str(e.value)


def test_every_pair_is_either_a_move_or_refused() -> None:
    moves = 0
    for state, action in product(Status, Action):
        if action in allowed_actions(state):
            assert next_status(state, action) in Status
            moves += 1
        else:
            with pytest.raises(IllegalTransition):
                next_status(state, action)
    # claim, unclaim, info_provided, start (twice), complete;
    # five decisions from two states; six withdrawals
    assert moves == 6 + 10 + 6


def test_triage_targets_by_urgency() -> None:
    targets = SlaTargets()
    assert triage_due(FRIDAY_10AM, Urgency.EMERGENCY, targets) == FRIDAY_10AM + timedelta(hours=2)
    assert triage_due(FRIDAY_10AM, Urgency.URGENT, targets) == FRIDAY_10AM + timedelta(hours=24)
    # Five working days from a Friday skip the weekend: the next Friday.
    assert triage_due(FRIDAY_10AM, Urgency.ROUTINE, targets) == FRIDAY_10AM + timedelta(days=7)


def test_working_days_skip_weekends() -> None:
    saturday = FRIDAY_10AM + timedelta(days=1)
    assert add_working_days(saturday, 1).weekday() == 0  # Monday
    assert add_working_days(saturday, 5) == FRIDAY_10AM + timedelta(days=7)
    assert add_working_days(FRIDAY_10AM, 0) == FRIDAY_10AM


def test_breach_is_late_triage_or_still_waiting_past_due() -> None:
    due = FRIDAY_10AM
    late, early = due + timedelta(minutes=1), due - timedelta(minutes=1)
    assert is_breached(status=Status.RECEIVED, due=due, now=late, triaged_at=None)
    assert not is_breached(status=Status.IN_TRIAGE, due=due, now=early, triaged_at=None)
    assert is_breached(status=Status.ACCEPTED, due=due, now=late, triaged_at=late)
    assert not is_breached(status=Status.ACCEPTED, due=due, now=late, triaged_at=early)
    assert not is_breached(status=Status.WITHDRAWN, due=due, now=late, triaged_at=None)
