"""The opening-times conditions both searches' statements share (PostgreSQL's and SQLite's):
opening times are rare in a search and many per service, so they are asked of their own
table rather than kept on the search rows."""

from __future__ import annotations

from collections.abc import Callable

from directory.store.search_types import Criteria

_HOURS = "service_id IN (SELECT service_id FROM opening_hours WHERE {})"


def opening_conditions(c: Criteria, bind: Callable[[int], str]) -> list[str]:
    """When it is open: at an instant, or on a day between times (ORUK). ``bind`` adds an
    integer parameter to the statement and returns its placeholder."""
    out = []
    if c.open_at is not None:
        minute, weekday = bind(c.open_at.minute), bind(c.open_at.weekday)
        out.append(
            _HOURS.format(f"weekday = {weekday} AND opens <= {minute} AND closes > {minute}")
        )
    window = []
    if c.open_on is not None:
        window.append(f"weekday = {bind(c.open_on)}")
    if c.open_from is not None:
        window.append(f"opens >= {bind(c.open_from)}")
    if c.open_until is not None:
        window.append(f"closes <= {bind(c.open_until)}")
    if window:
        out.append(_HOURS.format(" AND ".join(window)))
    return out
