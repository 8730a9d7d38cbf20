"""Which day it is for the people using a plan: the day in England, not in UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def local_date(at: datetime) -> date:
    """The Europe/London date at ``at`` (an aware time). In British Summer Time the first hour
    after midnight is still the day before in UTC: an action due yesterday is overdue then."""
    return at.astimezone(LONDON).date()
