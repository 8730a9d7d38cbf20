"""A set of service ids already read, used as a condition of the next statement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Uuid, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def id_in(column: ColumnElement[Any], ids: Sequence[uuid.UUID], postgres: bool) -> Any:
    """``column IN ids``: on PostgreSQL one array parameter, not one parameter per id
    (hundreds of them cost more to send and to plan than the query itself)."""
    if postgres:
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(Uuid())))
    return column.in_(list(ids))
