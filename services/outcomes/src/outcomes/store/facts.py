"""Indicator inputs: one fact row per referral, goal, overdue action and care plan, kept
from events. Every change is decided by the event's own data (its ``sequence``, its
timestamps), never by when it arrived, so replaying the same events gives the same rows."""

from __future__ import annotations

import uuid
from datetime import datetime

from outcomes.store import dimensions
from outcomes.store.rows import Rows
from outcomes.store.tables import ReferralFactRow, ReferralVolumeRow

UNKNOWN_NEIGHBOURHOOD = "unknown"
SOCIAL_PRESCRIPTION_KIND = "service"  # a triage destination that is a directory service


def volume_key(day_at: datetime, neighbourhood: str | None, source: str) -> tuple[object, ...]:
    return (day_at.date(), neighbourhood or UNKNOWN_NEIGHBOURHOOD, source)


def count_received(rows: Rows, day_at: datetime, neighbourhood: str | None, source: str) -> None:
    key = volume_key(day_at, neighbourhood, source)
    row = rows.find(ReferralVolumeRow, key)
    if row is None:
        rows.add(
            ReferralVolumeRow(day=key[0], neighbourhood=key[1], source=key[2], referrals=1),
            key,
        )
    else:
        row.referrals += 1


def referral(
    rows: Rows, referral_id: uuid.UUID, person_id: uuid.UUID, status: str, sequence: int
) -> tuple[ReferralFactRow, bool]:
    """The referral's fact row, and whether this event is newer than what it holds (an
    event about a referral received before this service listened starts a partial row)."""
    row = rows.find(ReferralFactRow, referral_id)
    if row is None:
        row = ReferralFactRow(
            referral_id=referral_id,
            person_id=person_id,
            reason_codes=[],
            status=status,
            sequence=0,
            sla_breached=False,
            social_prescription=False,
        )
        dimensions.copy_for_new_unit(rows, row)
        rows.add(row, referral_id)
    fresh = sequence > row.sequence
    if fresh:
        row.sequence = sequence
        row.status = status
    return row, fresh
