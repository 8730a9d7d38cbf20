"""Finding and adding fact rows inside a consumer's run without flushing for every event.

A run of events shares one transaction. Looking a row up with autoflush on would write
everything added so far before each lookup (a flush per event); instead rows added in the
run are remembered by key, lookups skip the autoflush, and the whole run is written at
commit in a few batched statements.
"""

from __future__ import annotations

from typing import Any, TypeVar

from carethread.db import UnitOfWork

_ADDED = "outcomes.rows_added"
R = TypeVar("R")


def _added(uow: UnitOfWork) -> dict[tuple[type[Any], Any], Any]:
    added: dict[tuple[type[Any], Any], Any] = uow.session.info.setdefault(_ADDED, {})
    return added


async def find(uow: UnitOfWork, model: type[R], key: Any) -> R | None:
    hit = _added(uow).get((model, key))
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    with uow.session.no_autoflush:
        return await uow.session.get(model, key)


def add(uow: UnitOfWork, row: Any, key: Any) -> None:
    uow.session.add(row)
    _added(uow)[(type(row), key)] = row


def forget(uow: UnitOfWork, model: type[Any], key: Any) -> None:
    _added(uow).pop((model, key), None)
