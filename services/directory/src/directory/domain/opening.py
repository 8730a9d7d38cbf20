"""Opening times: weekly schedules as minute ranges, and whether a service is open at an
instant, in the time zone the services keep their hours in (Europe/London)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class OpeningHours:
    """Open on ``weekday`` (0 = Monday) from ``opens`` up to ``closes`` (minutes after
    midnight, local time; ``closes`` may be 1440 for midnight)."""

    weekday: int
    opens: int
    closes: int


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def weekly_hours(days: list[str], opens_at: time, closes_at: time) -> list[OpeningHours]:
    """The minute ranges of a weekly schedule; hours past midnight spill into the next day,
    and a closing time of 00:00 means midnight."""
    opens, closes = _minutes(opens_at), _minutes(closes_at)
    out: list[OpeningHours] = []
    for day in days:
        weekday = WEEKDAYS.index(day)
        if closes > opens:
            out.append(OpeningHours(weekday, opens, closes))
        else:  # overnight, or closes at midnight
            out.append(OpeningHours(weekday, opens, MINUTES_PER_DAY))
            if closes:
                out.append(OpeningHours((weekday + 1) % 7, 0, closes))
    return out


@dataclass(frozen=True)
class LocalInstant:
    weekday: int
    minute: int


def local_instant(at: datetime, zone: ZoneInfo = LONDON) -> LocalInstant:
    """Where ``at`` falls in the local week; a naive ``at`` is already local time."""
    local = at.astimezone(zone) if at.tzinfo is not None else at
    return LocalInstant(local.weekday(), local.hour * 60 + local.minute)


def is_open(hours: list[OpeningHours], at: datetime, zone: ZoneInfo = LONDON) -> bool:
    moment = local_instant(at, zone)
    return any(h.weekday == moment.weekday and h.opens <= moment.minute < h.closes for h in hours)
