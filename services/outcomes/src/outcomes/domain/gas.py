"""Goal attainment scaling: the Kiresuk-Sherman T-score.

Each goal is scored -2 (much less than expected) .. 0 (the expected outcome) .. +2 (much
more than expected). The T-score combines them:

    T = 50 + 10 * sum(w_i * x_i) / sqrt((1 - rho) * sum(w_i^2) + rho * (sum(w_i))^2)

with rho, the assumed correlation between goal scores, conventionally 0.3, and equal
weights unless the goals were weighted when they were set. T = 50 when every goal reaches
its expected outcome; the spread is 10 per standard deviation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

RHO = 0.3


def t_score(
    levels: Sequence[int], weights: Sequence[float] | None = None, *, rho: float = RHO
) -> float:
    if not levels:
        raise ValueError("goal attainment needs at least one goal")
    w = list(weights) if weights is not None else [1.0] * len(levels)
    if len(w) != len(levels):
        raise ValueError("one weight per goal")
    weighted = sum(wi * xi for wi, xi in zip(w, levels, strict=True))
    spread = math.sqrt((1 - rho) * sum(wi * wi for wi in w) + rho * sum(w) ** 2)
    return 50 + 10 * weighted / spread
