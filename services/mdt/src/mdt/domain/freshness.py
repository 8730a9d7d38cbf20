"""Which change wins when events arrive out of order or twice."""

from __future__ import annotations


def is_newer(incoming_sequence: int | None, stored_sequence: int | None) -> bool:
    """An event changes a projected row only if it is a later version of the aggregate.

    Events without a sequence are treated as the first version.
    """
    return (incoming_sequence or 0) > (stored_sequence or 0)


def wins(incoming: tuple[int, int], stored: tuple[int, int]) -> bool:
    """``(sequence, rank)`` ordering for things changed several times in one version.

    One saved plan version can both add and complete an action, and the overdue watch
    reports an action at the version it was last saved in; the rank (added < overdue <
    completed) decides between events of the same version, so the result is the same
    whichever arrives first. An equal pair is the same change again: it does not win.
    """
    return incoming > stored
