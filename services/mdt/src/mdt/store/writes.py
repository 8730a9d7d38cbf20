"""Bulk writes the view's poll and projection share: rows by key in chunks, and an upsert
that writes many rows with one statement on PostgreSQL and SQLite alike."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from carethread.db import conflict_insert
from mdt.store.tables import MdtBase

CHUNK = 2_000  # keys per statement, well inside SQLite's parameter limit
T = TypeVar("T")


def table_of(row_class: type[MdtBase]) -> Table:
    return cast(Table, row_class.__table__)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (every column given), replacing the stored row with the same key."""
    if not rows:
        return
    statement = conflict_insert(session, table)
    keys = list(table.primary_key.columns)
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: statement.excluded[c.name] for c in table.columns if not c.primary_key},
    )
    session.execute(statement, list(rows))
