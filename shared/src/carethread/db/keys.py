"""``column IN keys`` as each database takes it best.

On PostgreSQL the keys go as one array parameter (``column = ANY(:keys)``): the statement's
text is the same however many keys there are, so asyncpg prepares it once instead of once per
length, and hundreds of keys are not bound and planned one by one; the planner still looks
each key up in the column's index. SQLite has no arrays: a plain ``IN`` list there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from carethread.db.engine import on_postgres


def among(
    session: Session | AsyncSession, column: ColumnElement[Any], keys: Sequence[Any]
) -> ColumnElement[bool]:
    if on_postgres(session):
        values = bindparam(None, list(keys), type_=postgresql.ARRAY(column.type))
        return column == any_(values)
    return column.in_(list(keys))
