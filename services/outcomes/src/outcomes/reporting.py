"""Computing an indicator for a period, broken down by up to two dimensions, with its
deprivation gap and slope index, published under the small-number rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from carethread.db import UnitOfWork
from carethread.errors import InvalidInput, NotFound
from outcomes.domain import breakdown
from outcomes.domain.breakdown import Inequality, PublishedCell
from outcomes.domain.disclosure import Policy
from outcomes.domain.indicators import BY_ID, Dimension, Indicator
from outcomes.domain.periods import InvalidPeriod, Period, parse_period
from outcomes.store import tallies
from outcomes.store.indicators import raw_counts

MAX_DIMENSIONS = 2


def _query_problem(parameter: str, message: str) -> InvalidInput:
    return InvalidInput(
        message,
        errors=[
            {
                "field": parameter,
                "in": "query",
                "pointer": "#/" + parameter,
                "message": message,
                "type": "value_error",
            }
        ],
    )


def indicator(indicator_id: str) -> Indicator:
    found = BY_ID.get(indicator_id)
    if found is None:
        raise NotFound(f"No indicator {indicator_id!r}; GET /api/v1/indicators lists them.")
    return found


def dimensions(by: str | None) -> list[Dimension]:
    if not by:
        return []
    names = [n.strip() for n in by.split(",") if n.strip()]
    known = ", ".join(d.value for d in Dimension)
    out = []
    for name in names:
        try:
            out.append(Dimension(name))
        except ValueError:
            raise _query_problem(
                "by", f"unknown breakdown dimension {name!r}; use one of {known}"
            ) from None
    if len(out) > MAX_DIMENSIONS or len(set(out)) != len(out):
        raise _query_problem("by", f"break down by one or two different dimensions of {known}")
    return out


def period(text: str | None) -> Period | None:
    if not text:
        return None
    try:
        return parse_period(text)
    except InvalidPeriod as e:
        raise _query_problem("period", str(e)) from e


@dataclass(frozen=True)
class Computed:
    indicator: Indicator
    period: Period | None
    dimensions: list[Dimension]
    overall: PublishedCell
    cells: list[PublishedCell]
    inequality: Inequality


async def compute(
    uow: UnitOfWork,
    ind: Indicator,
    dims: Sequence[Dimension],
    when: Period | None,
    policy: Policy,
    *,
    today: date,
) -> Computed:
    # Age is taken on the period's last day (today for all time), so a replay of the same
    # events gives the same numbers for a period.
    reference = when.last_day if when else today
    # One query grouped by the asked dimensions and the IMD quintile gives both the
    # breakdown and the quintiles the gap and slope index need.
    imd = Dimension.IMD_QUINTILE
    read = [*dims, imd] if imd not in dims else list(dims)
    # From the tallies when they can answer (every breakdown but by age band), else from
    # the units: the same counts either way.
    counts = await tallies.counts(uow, ind, read, when)
    if counts is None:
        counts = await raw_counts(uow, ind, read, when)
    full = breakdown.group(counts, read, reference)
    quintiles = breakdown.project(full, [read.index(imd)])
    cells = breakdown.project(full, [read.index(d) for d in dims])
    return Computed(
        indicator=ind,
        period=when,
        dimensions=list(dims),
        overall=breakdown.publish(breakdown.overall(quintiles), ind.kind, policy),
        cells=breakdown.breakdown(cells, dims, ind.kind, policy) if dims else [],
        inequality=breakdown.inequality(quintiles, ind.kind, policy),
    )
