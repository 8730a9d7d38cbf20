"""The front door's one read on PostgreSQL: who the person is, their row locked, and the
open referrals matching at the door compares the new one with.

Three questions the door used to ask in three round trips (the id an earlier referral gave
a person with no NHS number; the person's row, inserted or locked; their open referrals)
are one statement here: the round trip, not the work, is what each cost the service. The
open referrals are read from the statement's snapshot, as they were before the person's
row was locked when they were separate statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import insert as postgres_insert

from carethread.db import UnitOfWork
from referrals.domain.lifecycle import OPEN
from referrals.domain.person import Person
from referrals.store import people
from referrals.store.referrals import REFERRAL

_R = REFERRAL.c
_P = people.PERSON.c
OPEN_COLUMNS = ("id", "nhs_number", "status", "received_at", "reason_codes")
MATCHED_AT_THE_DOOR = 50  # open referrals compared with a new one, oldest first
_STORED = (*people.PERSON_FIELDS, "version", "updated_at")


@dataclass(frozen=True)
class Arrival:
    """The person as stored (``stored.person.person_id`` is the id they go by), and their
    open referrals' ``OPEN_COLUMNS``, oldest first."""

    stored: people.Stored
    open_referrals: list[dict[str, Any]]


def _statement() -> Select[Any]:
    # A person with no NHS number goes by the id an earlier referral with the same
    # demographic match key gave them, if there is one (``earlier_key`` is NULL otherwise,
    # and matches nothing).
    earlier = (
        select(_R.person_id)
        .where(_R.match_key == bindparam("earlier_key"), _R.nhs_number.is_(None))
        .order_by(_R.received_at)
        .limit(1)
        .scalar_subquery()
    )
    # (An INSERT's bound values may not be named after its columns.)
    values: dict[str, Any] = {name: bindparam(f"p_{name}", type_=_P[name].type) for name in _STORED}
    values["person_id"] = func.coalesce(earlier, bindparam("p_person_id", type_=_P.person_id.type))
    new = postgres_insert(people.PERSON).values(values)
    # The no-op update locks an existing row; xmax = 0 only on a fresh one.
    arrived = (
        new.on_conflict_do_update(
            index_elements=[_P.person_id], set_={"person_id": new.excluded.person_id}
        )
        .returning(*_P, literal_column("xmax = 0").label("inserted"))
        .cte("arrived")
    )
    # The open statuses are written into the SQL, not bound: they never change.
    open_statuses: list[ColumnElement[Any]] = [literal_column(f"'{s.value}'") for s in sorted(OPEN)]
    open_referrals = (
        select(*(_R[name].label(f"open_{name}") for name in OPEN_COLUMNS))
        .where(
            (_R.person_id == arrived.c.person_id) | (_R.match_key == bindparam("match_key")),
            _R.status.in_(open_statuses),
        )
        .order_by(_R.received_at)
        .limit(MATCHED_AT_THE_DOOR)
        .lateral("open_referral")
    )
    return select(arrived, open_referrals).select_from(arrived.outerjoin(open_referrals, true()))


_ARRIVAL = _statement()


async def arrive(uow: UnitOfWork, person: Person, match_key: str | None, now: datetime) -> Arrival:
    """Insert or lock the person's row (under the id an earlier referral gave them when they
    have no NHS number) and read their open referrals, in one round trip."""
    columns = {**people.person_columns(person), "version": 1, "updated_at": now}
    params = {
        **{f"p_{name}": value for name, value in columns.items()},
        "p_person_id": person.person_id,
        "earlier_key": match_key if person.nhs_number is None else None,
        "match_key": match_key,
    }
    rows: Sequence[Row[Any]] = (await uow.session.execute(_ARRIVAL, params)).all()
    first = rows[0]
    stored = people.Stored(people.from_row(first), first.version, bool(first.inserted))
    found = [
        {name: getattr(row, f"open_{name}") for name in OPEN_COLUMNS}
        for row in rows
        if row.open_id is not None
    ]
    return Arrival(stored, found)
