"""Each unit row's copy of its person's breakdown fields, facts and opt-out.

Indicators count units grouped by their person's fields; reading those from the unit row
itself makes an indicator one grouped scan instead of a join to ``person`` and an
anti-join to the opt-out list over every unit. A unit gets the copy when it is created
(``copy_onto``), and the units of everyone whose person row or opt-out changed get it
afresh when the unit of work commits (``refresh``), from the same ``person`` and
``data_opt_out`` rows a replay rebuilds, so the copies are a function of those rows alone.
Refreshing writes only the units whose copy differs.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true, update
from sqlalchemy.orm import Session

from carethread.db import among
from outcomes.store.rows import Rows
from outcomes.store.tables import (
    DataOptOutRow,
    GoalFactRow,
    MeasureChangeRow,
    OverdueActionRow,
    PersonAliasRow,
    PersonDimensions,
    PersonRow,
    ReferralFactRow,
)

UNIT_TABLES: tuple[Any, ...] = (ReferralFactRow, MeasureChangeRow, GoalFactRow, OverdueActionRow)
# Units that may exist before their person does (a measure needs a known person).
UNITS_BEFORE_PERSON: tuple[Any, ...] = (ReferralFactRow, GoalFactRow, OverdueActionRow)
# The unit's column, and the person's column it copies.
COPIED = {
    "person_imd_quintile": "imd_quintile",
    "person_sex": "sex",
    "person_ethnicity_code": "ethnicity_code",
    "person_borough": "borough",
    "person_neighbourhood": "neighbourhood",
    "person_birth_date": "birth_date",
    "person_in_plus_group": "in_plus_group",
    "person_social_prescribed": "social_prescribed",
    "person_has_care_plan": "has_care_plan",
}
CHUNK = 500  # people per statement: well inside every driver's parameter limit
# Statements write columns only; the session's objects are not refreshed from them.
NO_SYNC = {"synchronize_session": False}


def copy_onto(unit: PersonDimensions, person: PersonRow | None, opted_out: bool) -> None:
    """A new unit's copy of its person (None: not known yet, so NULLs until they are)."""
    for column, source in COPIED.items():
        setattr(unit, column, getattr(person, source) if person is not None else None)
    unit.person_opted_out = opted_out


def copy_for_new_unit(rows: Rows, unit: Any) -> None:
    """A unit created by a handler: its person and opt-out from the run's rows."""
    person = rows.find(PersonRow, unit.person_id)
    copy_onto(unit, person, person_opted_out(rows, unit.person_id))


def person_opted_out(rows: Rows, person_id: uuid.UUID) -> bool:
    """Opted out under their id, or under any id merged into it (``store.merges``)."""
    if not rows.merged_into:  # nobody in the run was merged: only their own id
        return rows.find(DataOptOutRow, person_id) is not None
    return any(rows.find(DataOptOutRow, i) is not None for i in sorted(rows.ids_of(person_id)))


def opted_out_clause(table: Any) -> ColumnElement[bool]:
    """Whether the unit's person is opted out, as ``person_opted_out`` decides it."""
    merged_in = select(PersonAliasRow.person_id).join(
        DataOptOutRow, DataOptOutRow.person_id == PersonAliasRow.merged_person_id
    )
    return or_(table.person_id.in_(select(DataOptOutRow.person_id)), table.person_id.in_(merged_in))


def _refresh(session: Session, table: Any, among: ColumnElement[bool]) -> None:
    opted_out = opted_out_clause(table)
    values = {getattr(table, c): getattr(PersonRow, s) for c, s in COPIED.items()}
    values[table.person_opted_out] = opted_out
    # UPDATE ... FROM person: a unit whose person is not known keeps its NULLs.
    session.execute(
        update(table)
        .values(values)
        .where(
            table.person_id == PersonRow.person_id,
            among,
            or_(*(column.is_distinct_from(source) for column, source in values.items())),
        )
        .execution_options(**NO_SYNC)
    )


def _refresh_opt_out(session: Session, table: Any, among: ColumnElement[bool]) -> None:
    opted_out = opted_out_clause(table)
    session.execute(
        update(table)
        .values(person_opted_out=opted_out)
        .where(among, table.person_opted_out.is_distinct_from(opted_out))
        .execution_options(**NO_SYNC)
    )


def _chunks(people: Collection[uuid.UUID]) -> list[list[uuid.UUID]]:
    ordered = sorted(people)
    return [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]


def refresh(
    session: Session, people: Collection[uuid.UUID], tables: Sequence[Any] = UNIT_TABLES
) -> None:
    """Copy these people's fields onto their units in ``tables`` (the caller has flushed)."""
    for chunk in _chunks(people):
        for table in tables:
            _refresh(session, table, among(session, table.person_id, chunk))


def refresh_opt_outs(session: Session, people: Collection[uuid.UUID]) -> None:
    """These people's opt-out changed (whether or not we know them yet)."""
    for chunk in _chunks(people):
        for table in UNIT_TABLES:
            _refresh_opt_out(session, table, among(session, table.person_id, chunk))


def refresh_all(session: Session) -> None:
    """Copy every person's fields onto every unit: after rows were written by other means
    than the handlers (a bulk load, a national opt-out list)."""
    for table in UNIT_TABLES:
        _refresh(session, table, true())
        _refresh_opt_out(session, table, true())
