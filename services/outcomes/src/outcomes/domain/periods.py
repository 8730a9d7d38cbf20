"""Reporting periods: a calendar year (``2026``), quarter (``2026-Q3``), month
(``2026-09``), financial year (``FY2026`` = April 2026 to March 2027) or explicit dates
(``2026-04-01/2026-09-30``, both inclusive). Periods are half-open internally."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta


class InvalidPeriod(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    label: str
    start: date  # inclusive
    end: date  # exclusive

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def _month_after(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def parse_period(text: str) -> Period:
    t = text.strip().upper()
    try:
        if m := re.fullmatch(r"(\d{4})", t):
            y = int(m[1])
            return Period(t, date(y, 1, 1), date(y + 1, 1, 1))
        if m := re.fullmatch(r"FY(\d{4})", t):
            y = int(m[1])
            return Period(t, date(y, 4, 1), date(y + 1, 4, 1))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", t):
            y, q = int(m[1]), int(m[2])
            return Period(t, date(y, 3 * q - 2, 1), _month_after(y, 3 * q))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", t):
            y, mo = int(m[1]), int(m[2])
            return Period(t, date(y, mo, 1), _month_after(y, mo))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})", t):
            start, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if last < start:
                raise InvalidPeriod(f"period {text!r} ends before it starts")
            return Period(t, start, last + timedelta(days=1))
    except ValueError as e:
        if isinstance(e, InvalidPeriod):
            raise
        raise InvalidPeriod(f"period {text!r} is not a real date range") from e
    raise InvalidPeriod(
        f"period {text!r}: use 2026, 2026-Q3, 2026-09, FY2026 or 2026-04-01/2026-09-30"
    )


def months(start: date, end: date) -> list[Period]:
    """The calendar months from ``start``'s month up to (not including) ``end``."""
    out, current = [], date(start.year, start.month, 1)
    while current < end:
        nxt = _month_after(current.year, current.month)
        out.append(Period(f"{current:%Y-%m}", current, nxt))
        current = nxt
    return out
