"""The statistics an inequality breakdown needs: Wilson score intervals for proportions,
the gap between the most and least deprived quintiles, and the slope index of inequality.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for ``successes`` out of ``trials`` (Wilson 1927; the
    method the Office for Health Improvement and Disparities uses for proportions)."""
    if trials <= 0:
        raise ValueError("a proportion needs at least one trial")
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    denominator = 1 + z2 / trials
    # At 0 and at every trial the bound is exactly 0 (or 1); floating point would miss it.
    low = 0.0 if successes == 0 else max(0.0, (centre - spread) / denominator)
    high = 1.0 if successes == trials else min(1.0, (centre + spread) / denominator)
    return low, high


@dataclass(frozen=True)
class Gap:
    """Most deprived minus least deprived (absolute) and most over least (relative)."""

    absolute: float
    relative: float | None  # None when the least deprived value is 0


def gap(most_deprived: float, least_deprived: float) -> Gap:
    relative = most_deprived / least_deprived if least_deprived else None
    return Gap(most_deprived - least_deprived, relative)


@dataclass(frozen=True)
class RankedGroup:
    """One deprivation group, ordered from the most deprived: its share of the
    population (the denominator) and its value."""

    population: float
    value: float


def cumulative_rank_midpoints(populations: Sequence[float]) -> list[float]:
    """Each group's midpoint on the 0-1 cumulative population scale (most deprived at 0)."""
    total = sum(populations)
    if total <= 0:
        raise ValueError("no population")
    out, before = [], 0.0
    for n in populations:
        share = n / total
        out.append(before + share / 2)
        before += share
    return out


def slope_index_of_inequality(groups: Sequence[RankedGroup]) -> float | None:
    """The slope index of inequality: the value regressed on each group's cumulative rank
    midpoint (most deprived 0, least deprived 1) by least squares weighted by population,
    read as the modelled difference from the most deprived end to the least deprived end.

    Returned as *most deprived minus least deprived* (minus the slope), the same direction
    as the absolute gap. None when fewer than two groups have anyone in them.
    """
    present = [g for g in groups if g.population > 0]
    if len(present) < 2:
        return None
    x = cumulative_rank_midpoints([g.population for g in present])
    w = [g.population for g in present]
    y = [g.value for g in present]
    sw = sum(w)
    mean_x = sum(wi * xi for wi, xi in zip(w, x, strict=True)) / sw
    mean_y = sum(wi * yi for wi, yi in zip(w, y, strict=True)) / sw
    sxx = sum(wi * (xi - mean_x) ** 2 for wi, xi in zip(w, x, strict=True))
    sxy = sum(wi * (xi - mean_x) * (yi - mean_y) for wi, xi, yi in zip(w, x, y, strict=True))
    if sxx == 0:
        return None
    return -(sxy / sxx)
