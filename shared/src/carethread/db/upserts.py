"""An ``INSERT`` that can say what to do on a conflicting key (``ON CONFLICT``): PostgreSQL
and SQLite both have it, each through its own dialect's construct."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from carethread.db.engine import on_postgres


def conflict_insert(session: Session | AsyncSession, table: Any) -> Any:
    """``insert(table)`` for the session's database, with ``on_conflict_do_update`` /
    ``on_conflict_do_nothing`` and ``excluded``."""
    if on_postgres(session):
        return postgresql.insert(table)
    return sqlite.insert(table)
