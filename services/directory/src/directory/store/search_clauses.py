"""Conditions both searches' statements share (PostgreSQL's and SQLite's), written once; each
statement passes its own way of binding a value (PostgreSQL's with a cast)."""

from __future__ import annotations

from collections.abc import Callable

from directory.store.search_types import Criteria

_HOURS = "service_id IN (SELECT service_id FROM opening_hours WHERE {})"


def age_conditions(
    c: Criteria, bind_int: Callable[[int], str], bind_float: Callable[[float], str]
) -> list[str]:
    """Whom the service takes by age: a person's age within its range (no bound: anyone),
    or its range within the asked bounds (ORUK)."""
    out = []
    if c.age is not None:
        age = bind_int(c.age)
        out.append(f"(minimum_age IS NULL OR minimum_age <= {age})")
        out.append(f"(maximum_age IS NULL OR maximum_age >= {age})")
    if c.minimum_age is not None:
        out.append(f"minimum_age >= {bind_float(float(c.minimum_age))}")
    if c.maximum_age is not None:
        out.append(f"maximum_age <= {bind_float(float(c.maximum_age))}")
    return out


def offer_conditions(
    c: Criteria, bind_bool: Callable[[bool], str], bind_text: Callable[[str], str]
) -> list[str]:
    """How the service is offered: free or not, taking people or not, its capacity and its
    referral route."""
    out = []
    if c.free is not None:
        out.append(f"free = {bind_bool(c.free)}")
    if c.accepting is not None:
        out.append("capacity = 'accepting'" if c.accepting else "capacity <> 'accepting'")
    if c.capacity is not None:
        out.append(f"capacity = {bind_text(c.capacity)}")
    if c.referral_route is not None:
        out.append(f"referral_route = {bind_text(c.referral_route)}")
    return out


def opening_conditions(c: Criteria, bind: Callable[[int], str]) -> list[str]:
    """When it is open: at an instant, or on a day between times (ORUK). Opening times are
    rare in a search and many per service, so they are asked of their own table. ``bind``
    adds an integer parameter to the statement and returns its placeholder."""
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
