"""``column IN (keys)`` as the database prepares it best.

On PostgreSQL the keys go as one array parameter (``column = ANY(:keys)``), so the
statement's text is the same for any number of keys: asyncpg prepares it once instead of
once per length, and the planner still looks each key up in the column's index. SQLite
has no arrays: a plain ``IN`` list there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session


def among(session: Session, column: Any, keys: Sequence[Any]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        values = bindparam(None, list(keys), type_=postgresql.ARRAY(column.type))
        return column == any_(values)  # type: ignore[no-any-return]
    return column.in_(list(keys))  # type: ignore[no-any-return]
