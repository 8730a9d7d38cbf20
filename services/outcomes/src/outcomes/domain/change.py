"""Before and after: a person's first and latest measure on an instrument, and whether the
change between them is meaningful by the instrument's own threshold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from outcomes.domain.instruments import Instrument, Scale


class Direction(StrEnum):
    IMPROVED = "improved"
    DETERIORATED = "deteriorated"
    NO_MEANINGFUL_CHANGE = "no_meaningful_change"
    NO_THRESHOLD = "no_threshold"  # the instrument publishes none: the change is shown only


@dataclass(frozen=True)
class Taken:
    """One recorded measure, as far as change needs it."""

    measure_id: str
    recorded_at: datetime
    scores: Mapping[str, float]


@dataclass(frozen=True)
class ScaleChange:
    scale: str
    before: float
    after: float
    change: float
    threshold: float | None
    direction: Direction


@dataclass(frozen=True)
class Pair:
    before: Taken
    after: Taken
    changes: tuple[ScaleChange, ...]


def judge(scale: Scale, before: float, after: float) -> ScaleChange:
    delta = round(after - before, 4)
    threshold = scale.meaningful_change
    if threshold is None:
        direction = Direction.NO_THRESHOLD
    else:
        better = delta if scale.higher_is_better else -delta
        if better >= threshold:
            direction = Direction.IMPROVED
        elif -better >= threshold:
            direction = Direction.DETERIORATED
        else:
            direction = Direction.NO_MEANINGFUL_CHANGE
    return ScaleChange(scale.name, before, after, delta, threshold, direction)


def ordered(measures: Sequence[Taken]) -> list[Taken]:
    # Ties on time are broken by id so the same measures always pair the same way.
    return sorted(measures, key=lambda m: (m.recorded_at, m.measure_id))


def pair(instrument: Instrument, measures: Sequence[Taken]) -> Pair | None:
    """The first measure against the latest; None until there are two."""
    if len(measures) < 2:
        return None
    in_order = ordered(measures)
    before, after = in_order[0], in_order[-1]
    changes = tuple(
        judge(scale, before.scores[scale.name], after.scores[scale.name])
        for scale in instrument.scales
        if scale.name in before.scores and scale.name in after.scores
    )
    return Pair(before, after, changes)
