"""Front-door activity: referral volumes by source and by need, and time to triage, as
published figures (small numbers suppressed, counts rounded)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from outcomes.domain.disclosure import Policy


@dataclass(frozen=True)
class Volume:
    group: str
    referrals: int | None  # None: suppressed
    suppressed: bool


@dataclass(frozen=True)
class TimeToTriage:
    triaged: int | None
    median_hours: float | None
    p90_hours: float | None
    suppressed: bool


def volumes(groups: Iterable[str], policy: Policy) -> list[Volume]:
    counted = Counter(groups)
    out = []
    for group in sorted(counted):
        shown = policy.publish(counted[group])
        out.append(Volume(group, shown, shown is None))
    return out


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (the usual 'type 7' quantile)."""
    at = (len(ordered) - 1) * q
    low, high = math.floor(at), math.ceil(at)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def time_to_triage(pairs: Iterable[tuple[datetime, datetime]], policy: Policy) -> TimeToTriage:
    """Hours from receipt to the first triage decision; withheld for a small number."""
    hours = sorted(max(0.0, (t - r).total_seconds() / 3600) for r, t in pairs)
    shown = policy.publish(len(hours))
    if shown is None or not hours:
        return TimeToTriage(shown, None, None, shown is None)
    return TimeToTriage(
        shown, round(_quantile(hours, 0.5), 1), round(_quantile(hours, 0.9), 1), False
    )
