"""Finding and adding the view's rows inside one unit of work without flushing per event.

A poll's events share one transaction. Looking a row up with the session's autoflush on
would write every pending row first — a flush per event, the dearest part of applying
one. Instead the rows added in this transaction are remembered here, and lookups of
anything else go to the database without flushing; the whole poll is flushed once, at
commit."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

R = TypeVar("R")
ADDED = "mdt.rows_added"


def _added(session: AsyncSession) -> dict[tuple[type[Any], Any], Any]:
    added: dict[tuple[type[Any], Any], Any] | None = session.info.get(ADDED)
    if added is None:
        added = session.info[ADDED] = {}
    return added


async def find(session: AsyncSession, table: type[R], key: Any) -> R | None:
    """The row with this primary key: added in this transaction, or stored."""
    row = _added(session).get((table, key))
    if row is not None:
        return row  # type: ignore[no-any-return]
    with session.no_autoflush:
        return await session.get(table, key)


def add(session: AsyncSession, row: R, key: Any) -> R:
    """Add a new row and remember it, so ``find`` sees it before it is flushed."""
    session.add(row)
    _added(session)[(type(row), key)] = row
    return row
