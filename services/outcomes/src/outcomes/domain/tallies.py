"""Indicator tallies: each indicator's numerator and denominator counted per day and per
combination of a few person fields, kept up to date as units change, so a breakdown adds
up hundreds of tallies instead of scanning every unit.

A tally is keyed by a *grouping*: the IMD quintile (every breakdown reads it, for the gap
and the slope index) and two more of the person fields in ``FIELDS``; the fields outside
the grouping hold their "unknown" value. Any breakdown by up to two dimensions other than
age band is answered by one grouping (age band depends on the period's last day, so it
is always counted from the units themselves).

What one unit adds to the tallies is decided here, from its values alone, exactly as the
store's query decides whether it counts: the same conditions, the same period day, the
same opt-out rule. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import combinations

from outcomes.domain.indicators import Condition, Dimension, Indicator

# The person fields a tally can be keyed by (the unit's copy of each), with the value
# that stands for "not known": a key column cannot be NULL, and every breakdown label
# reads NULL and this value alike (breakdown.labeller).
IMD = "person_imd_quintile"
UNKNOWN_VALUES: dict[str, object] = {
    IMD: 0,
    "person_in_plus_group": False,
    "person_sex": "",
    "person_borough": "",
    "person_ethnicity_code": "",
    "person_neighbourhood": "",
}
# Smallest first: a breakdown reads the first grouping that covers it.
FIELDS = (
    "person_in_plus_group",
    "person_sex",
    "person_borough",
    "person_ethnicity_code",
    "person_neighbourhood",
)
GROUPINGS: tuple[tuple[str, ...], ...] = tuple((IMD, *pair) for pair in combinations(FIELDS, 2))
# The day of a unit whose period date is missing: outside every period, inside "all time".
NO_DAY = date(1, 1, 1)


def grouping_name(grouping: Sequence[str]) -> str:
    return "+".join(f.removeprefix("person_") for f in grouping)


def grouping_for(columns: Iterable[str]) -> tuple[str, ...] | None:
    """The first grouping holding every one of ``columns`` (a unit's person fields), or
    None when none does (the age band's birth date)."""
    wanted = set(columns)
    return next((g for g in GROUPINGS if wanted <= set(g)), None)


def definition(indicator: Indicator) -> str:
    """What the tallies of ``indicator`` were counted by: when it changes (a new
    definition, new groupings), its tallies are rebuilt before they are read."""
    text = repr(
        (
            indicator.unit.value,
            indicator.period_field,
            indicator.denominator,
            indicator.numerator,
            GROUPINGS,
            NO_DAY,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _holds(c: Condition, values: Mapping[str, object]) -> bool:
    """``c`` on one unit, as SQL decides it (NULL never equals anything)."""
    if c.field.startswith("person."):
        fact = values["person_" + c.field.removeprefix("person.")] is True
        if c.op == "is_true":
            return fact
        if c.op == "is_false":
            return not fact  # NOT (fact IS TRUE): an unknown fact counts as false
        raise ValueError(f"{c.field} takes is_true or is_false")
    value = values[c.field]
    match c.op:
        case "eq":
            return value is not None and value == c.value
        case "in":
            return value is not None and value in (c.value or ())
        case "is_true":
            return value is True
        case "is_false":
            return value is False
        case "is_null":
            return value is None
        case "not_null":
            return value is not None
    raise ValueError(f"unknown operator {c.op}")


def holds_all(conditions: Sequence[Condition], values: Mapping[str, object]) -> bool:
    return all(_holds(c, values) for c in conditions)


def day_of(value: object) -> date:
    """The day a unit falls on for periods: a timestamp's UTC date, or the date itself."""
    if value is None:
        return NO_DAY
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    assert isinstance(value, date)
    return value


def fields_read(indicator: Indicator) -> set[str]:
    """The unit's columns that decide its contribution to ``indicator``."""
    out = {indicator.period_field, "person_opted_out", *UNKNOWN_VALUES}
    for c in (*indicator.denominator, *indicator.numerator):
        out.add(
            "person_" + c.field.removeprefix("person.")
            if c.field.startswith("person.")
            else c.field
        )
    return out


TallyKey = tuple[str, str, date, tuple[object, ...]]  # indicator, grouping, day, key values


@dataclass
class Tally:
    numerator: int = 0
    denominator: int = 0


def _known(field: str, values: Mapping[str, object]) -> object:
    value = values[field]
    return UNKNOWN_VALUES[field] if value is None else value


# Each grouping's name, and for each key column whether the grouping reads it.
_READS = tuple((grouping_name(g), tuple(f in g for f in UNKNOWN_VALUES)) for g in GROUPINGS)


def add_unit(
    tallies: dict[TallyKey, Tally],
    indicators: Sequence[Indicator],
    values: Mapping[str, object],
    sign: int = 1,
) -> None:
    """Add (``sign`` 1) or take away (-1) what one unit counts for in each indicator of
    its unit, in every grouping."""
    if values["person_opted_out"] is not False:
        return  # the national data opt-out: in no population indicator
    known = [_known(f, values) for f in UNKNOWN_VALUES]
    unknown = list(UNKNOWN_VALUES.values())
    keys = [
        (name, tuple(k if read else u for k, u, read in zip(known, unknown, reads, strict=True)))
        for name, reads in _READS
    ]
    for indicator in indicators:
        if not holds_all(indicator.denominator, values):
            continue
        day = day_of(values[indicator.period_field])
        counted = int(holds_all(indicator.numerator, values))
        for name, key in keys:
            tally = tallies.get((indicator.id, name, day, key))
            if tally is None:
                tally = tallies[(indicator.id, name, day, key)] = Tally()
            tally.denominator += sign
            tally.numerator += sign * counted


def changed(tallies: Mapping[TallyKey, Tally]) -> dict[TallyKey, Tally]:
    """The tallies that moved, in key order (writers take their rows in the same order)."""
    return {
        k: tallies[k]
        for k in sorted(tallies, key=lambda k: (k[0], k[1], k[2], tuple(map(str, k[3]))))
        if tallies[k].numerator or tallies[k].denominator
    }


def raw_key(dimensions: Sequence[Dimension], columns: Mapping[Dimension, Sequence[str]],
            values: Mapping[str, object]) -> tuple[object, ...]:  # fmt: skip
    """A tally's key values as the breakdown reads a unit's: "unknown" back to None."""
    out: list[object] = []
    for d in dimensions:
        for field in columns[d]:
            value = values[field]
            out.append(None if value == UNKNOWN_VALUES[field] and field != "person_in_plus_group"
                       else value)  # fmt: skip
    return tuple(out)
