"""From counts per raw demographic key to a published breakdown: groups, Wilson
intervals, suppression and rounding, and the deprivation gap and slope index."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from outcomes.domain import population
from outcomes.domain.disclosure import Policy
from outcomes.domain.indicators import Dimension, Kind
from outcomes.domain.statistics import (
    Gap,
    RankedGroup,
    gap,
    slope_index_of_inequality,
    wilson_interval,
)

UNKNOWN = population.UNKNOWN
QUINTILES = ("1", "2", "3", "4", "5")
MOST_DEPRIVED, LEAST_DEPRIVED = "1", "5"


@dataclass(frozen=True)
class RawCount:
    """Units counted for one combination of the raw person fields a dimension reads."""

    key: tuple[object, ...]
    numerator: int
    denominator: int


Group = tuple[str, ...]  # one label per dimension of the breakdown (none: everyone)


@dataclass(frozen=True)
class Cell:
    group: Group
    numerator: int
    denominator: int


@dataclass(frozen=True)
class PublishedCell:
    group: Group
    numerator: int | None
    denominator: int | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool


@dataclass(frozen=True)
class Inequality:
    most_deprived: PublishedCell | None
    least_deprived: PublishedCell | None
    gap: Gap | None
    slope_index: float | None
    note: str | None = None


def _text(value: object) -> str:
    return UNKNOWN if value is None or value == "" else str(value)


def labeller(dimension: Dimension, reference_date: date) -> Callable[[Sequence[object]], str]:
    """How a dimension turns its raw person fields (see ``RAW_FIELDS``) into a group."""
    if dimension is Dimension.ETHNICITY:
        return lambda k: population.ethnicity_group(k[0] if isinstance(k[0], str) else None)
    if dimension is Dimension.AGE_BAND:
        return lambda k: population.age_band(
            k[0] if isinstance(k[0], date) else None, reference_date
        )
    if dimension is Dimension.CORE20PLUS5:
        return lambda k: population.core20plus5(k[0] if isinstance(k[0], int) else None, bool(k[1]))
    return lambda k: _text(k[0])


# How many raw person fields each dimension reads, in the order the store selects them.
RAW_FIELDS: dict[Dimension, int] = {d: 1 for d in Dimension} | {Dimension.CORE20PLUS5: 2}


def group(
    raw: Iterable[RawCount], dimensions: Sequence[Dimension], reference_date: date
) -> list[Cell]:
    """Merge raw counts into the dimensions' groups (the key holds each dimension's raw
    fields one after another)."""
    labels = [labeller(d, reference_date) for d in dimensions]
    numerators: dict[Group, int] = defaultdict(int)
    denominators: dict[Group, int] = defaultdict(int)
    for r in raw:
        g, at = [], 0
        for d, label in zip(dimensions, labels, strict=True):
            g.append(label(r.key[at : at + RAW_FIELDS[d]]))
            at += RAW_FIELDS[d]
        numerators[tuple(g)] += r.numerator
        denominators[tuple(g)] += r.denominator
    return [Cell(g, numerators[g], denominators[g]) for g in denominators]


def project(cells: Iterable[Cell], keep: Sequence[int]) -> list[Cell]:
    """The cells summed over every dimension but those at the ``keep`` positions."""
    numerators: dict[Group, int] = defaultdict(int)
    denominators: dict[Group, int] = defaultdict(int)
    for c in cells:
        g = tuple(c.group[i] for i in keep)
        numerators[g] += c.numerator
        denominators[g] += c.denominator
    return [Cell(g, numerators[g], denominators[g]) for g in denominators]


AGE_ORDER = [label for _, label in population.AGE_BANDS] + [population.OLDEST_BAND]


def _label_order(dimension: Dimension, label: str) -> tuple[int, str]:
    if label == UNKNOWN:
        return (len(AGE_ORDER) + 1, "")
    if dimension is Dimension.AGE_BAND and label in AGE_ORDER:
        return (AGE_ORDER.index(label), "")
    return (0, label)


def _order(dimensions: Sequence[Dimension]) -> Callable[[Cell], tuple[tuple[int, str], ...]]:
    return lambda c: tuple(
        _label_order(d, label) for d, label in zip(dimensions, c.group, strict=True)
    )


def publish(cell: Cell, kind: Kind, policy: Policy) -> PublishedCell:
    if kind is Kind.COUNT:
        shown = policy.publish(cell.denominator)
        return PublishedCell(
            cell.group, None, shown, float(shown) if shown is not None else None, None, None,
            shown is None,
        )  # fmt: skip
    if cell.denominator == 0 or policy.proportion_suppressed(cell.numerator, cell.denominator):
        suppressed = cell.denominator != 0
        return PublishedCell(
            cell.group,
            None if suppressed else 0,
            None if suppressed else 0,
            None,
            None,
            None,
            suppressed,
        )
    low, high = wilson_interval(cell.numerator, cell.denominator)
    return PublishedCell(
        cell.group,
        policy.publish(cell.numerator),
        policy.publish(cell.denominator),
        round(cell.numerator / cell.denominator, 4),
        round(low, 4),
        round(high, 4),
        False,
    )


def breakdown(
    cells: Sequence[Cell], dimensions: Sequence[Dimension], kind: Kind, policy: Policy
) -> list[PublishedCell]:
    return [publish(c, kind, policy) for c in sorted(cells, key=_order(dimensions))]


def overall(cells: Sequence[Cell]) -> Cell:
    return Cell((), sum(c.numerator for c in cells), sum(c.denominator for c in cells))


def _rate(cell: Cell) -> float:
    return cell.numerator / cell.denominator


def _rounded(g: Gap) -> Gap:
    return Gap(round(g.absolute, 4), round(g.relative, 4) if g.relative is not None else None)


def inequality(quintiles: Sequence[Cell], kind: Kind, policy: Policy) -> Inequality:
    """Gap and slope index across IMD quintiles (1 most deprived). Computed from the true
    proportions, but the gap only when both end quintiles are publishable themselves."""
    if kind is not Kind.PROPORTION:
        return Inequality(None, None, None, None, "a count has no rate to compare across quintiles")
    by_group = {c.group[0]: c for c in quintiles if c.denominator > 0}
    ranked = [
        RankedGroup(by_group[q].denominator, _rate(by_group[q])) for q in QUINTILES if q in by_group
    ]
    sii = slope_index_of_inequality(ranked)
    most, least = by_group.get(MOST_DEPRIVED), by_group.get(LEAST_DEPRIVED)
    most_p = publish(most, kind, policy) if most else None
    least_p = publish(least, kind, policy) if least else None
    if most is None or least is None or most_p is None or least_p is None:
        note: str | None = "no one in the most or the least deprived quintile"
        the_gap = None
    elif most_p.suppressed or least_p.suppressed:
        note = "the most or least deprived quintile has too few people to publish a gap"
        the_gap = None
    else:
        note, the_gap = None, _rounded(gap(_rate(most), _rate(least)))
    return Inequality(most_p, least_p, the_gap, round(sii, 4) if sii is not None else None, note)
