"""Small-number suppression for published figures, so no one can be picked out.

A count from 1 to ``max_small`` (7 by default) is never published: it shows as suppressed.
Other counts are rounded to the nearest ``round_to`` (5 by default); 0 is published as 0.
For a proportion, the cell is also suppressed when the people *not* in the numerator are a
small number (47 of 50 would otherwise tell that 3 did not), and then so is its value.
Values and intervals come from the unrounded counts, but only for cells that publish.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    max_small: int = 7
    round_to: int = 5

    def is_small(self, count: int) -> bool:
        return 1 <= count <= self.max_small

    def publish(self, count: int) -> int | None:
        """The count as published: None when suppressed, else rounded."""
        if self.is_small(count):
            return None
        if self.round_to <= 1:
            return count
        # Half rounds up (12.5 -> 15): Python's round() would round half to even.
        return int((count + self.round_to / 2) // self.round_to * self.round_to)

    def proportion_suppressed(self, numerator: int, denominator: int) -> bool:
        return any(self.is_small(n) for n in (numerator, denominator, denominator - numerator))
