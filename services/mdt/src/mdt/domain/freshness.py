"""Which change wins when events arrive out of order or twice."""

from __future__ import annotations


def is_newer(incoming_sequence: int | None, stored_sequence: int | None) -> bool:
    """An event changes a projected row only if it is a later version of the aggregate.

    Events without a sequence are treated as the first version.
    """
    return (incoming_sequence or 0) > (stored_sequence or 0)
