"""Lag percentiles (nearest rank), in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LagStats:
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float


def percentile(ordered: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of an ascending, non-empty sequence."""
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def lag_stats(lags_s: Sequence[float]) -> LagStats:
    ordered = sorted(lags_s)
    if not ordered:
        raise ValueError("no lags to summarise")

    def ms(seconds: float) -> float:
        return round(seconds * 1000, 1)

    return LagStats(
        count=len(ordered),
        p50_ms=ms(percentile(ordered, 50)),
        p95_ms=ms(percentile(ordered, 95)),
        p99_ms=ms(percentile(ordered, 99)),
        max_ms=ms(ordered[-1]),
        mean_ms=ms(sum(ordered) / len(ordered)),
    )
