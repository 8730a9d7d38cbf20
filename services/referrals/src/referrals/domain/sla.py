"""Response-time targets: how long the front door has to triage a referral, by urgency.

Defaults: emergency 2 hours, urgent 24 hours, routine 5 working days (Monday to Friday; bank
holidays are not yet counted). The clock stops at the triage decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from referrals.domain.lifecycle import Status
from referrals.domain.referral import Urgency

WORKING_DAYS = frozenset(range(5))  # Monday .. Friday


@dataclass(frozen=True)
class SlaTargets:
    emergency_hours: float = 2
    urgent_hours: float = 24
    routine_working_days: int = 5


def triage_due(received_at: datetime, urgency: Urgency, targets: SlaTargets) -> datetime:
    if urgency is Urgency.EMERGENCY:
        return received_at + timedelta(hours=targets.emergency_hours)
    if urgency is Urgency.URGENT:
        return received_at + timedelta(hours=targets.urgent_hours)
    return add_working_days(received_at, targets.routine_working_days)


def add_working_days(start: datetime, days: int) -> datetime:
    """``days`` working days after ``start``, at the same time of day.

    A referral received at a weekend starts its clock on Monday morning's equivalent: the
    same time of day on the next working day counts as day one.
    """
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() in WORKING_DAYS:
            remaining -= 1
    return current


def is_breached(
    *,
    status: Status,
    due: datetime,
    now: datetime,
    triaged_at: datetime | None,
) -> bool:
    """Late if still untriaged after ``due``, or triaged after it."""
    if triaged_at is not None:
        return triaged_at > due
    if status in (Status.RECEIVED, Status.IN_TRIAGE):
        return now > due
    return False
