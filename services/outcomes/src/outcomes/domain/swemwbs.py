"""SWEMWBS raw-to-metric conversion (Stewart-Brown et al. 2009, Rasch analysis).

The seven items are summed (7-35) and the sum is looked up in the published conversion
table, so scores can be compared across studies as an interval scale. This is a scorer
only: the items' wording is licensed (NHS Health Scotland, University of Warwick and
University of Edinburgh) and is never shipped.
"""

from __future__ import annotations

RAW_RANGE = (7, 35)
METRIC_BY_RAW: dict[int, float] = {
    7: 7.00,
    8: 9.51,
    9: 11.25,
    10: 12.40,
    11: 13.33,
    12: 14.08,
    13: 14.75,
    14: 15.32,
    15: 15.84,
    16: 16.36,
    17: 16.88,
    18: 17.43,
    19: 17.98,
    20: 18.59,
    21: 19.25,
    22: 19.98,
    23: 20.73,
    24: 21.54,
    25: 22.35,
    26: 23.21,
    27: 24.11,
    28: 25.03,
    29: 26.02,
    30: 27.03,
    31: 28.13,
    32: 29.31,
    33: 30.70,
    34: 32.55,
    35: 35.00,
}


def metric_score(raw: int) -> float:
    if raw not in METRIC_BY_RAW:
        raise ValueError(f"a SWEMWBS raw score is from {RAW_RANGE[0]} to {RAW_RANGE[1]}")
    return METRIC_BY_RAW[raw]
