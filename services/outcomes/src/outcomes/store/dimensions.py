"""Each unit row's copy of its person's breakdown fields, facts and opt-out.

Indicators count units grouped by their person's fields; reading those from the unit row
itself makes an indicator one grouped scan instead of a join to ``person`` and an
anti-join to the opt-out list over every unit. The copy is refreshed for every person
whose row, facts, opt-out or units changed, when the unit of work commits (see
``pending``), from the same ``person`` and ``data_opt_out`` rows a replay rebuilds, so
the copies are a function of those rows alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.orm import Session

from outcomes.store.tables import (
    DataOptOutRow,
    GoalFactRow,
    MeasureChangeRow,
    OverdueActionRow,
    PersonRow,
    ReferralFactRow,
)

UNIT_TABLES = (ReferralFactRow, MeasureChangeRow, GoalFactRow, OverdueActionRow)
# The unit's column, and the person's column it copies.
COPIED = {
    "person_imd_quintile": PersonRow.imd_quintile,
    "person_sex": PersonRow.sex,
    "person_ethnicity_code": PersonRow.ethnicity_code,
    "person_borough": PersonRow.borough,
    "person_neighbourhood": PersonRow.neighbourhood,
    "person_birth_date": PersonRow.birth_date,
    "person_in_plus_group": PersonRow.in_plus_group,
    "person_social_prescribed": PersonRow.social_prescribed,
    "person_has_care_plan": PersonRow.has_care_plan,
}
CHUNK = 500  # people per statement: well inside every driver's parameter limit
# Statements write columns only; the session's objects are not refreshed from them.
NO_SYNC = {"synchronize_session": False}


def _refresh(session: Session, table: Any, among: ColumnElement[bool]) -> None:
    # A unit whose person is not known yet keeps NULLs until the person arrives (an
    # UPDATE ... FROM touches only units with a person row).
    session.execute(
        update(table)
        .values({getattr(table, name): source for name, source in COPIED.items()})
        .where(table.person_id == PersonRow.person_id, among)
        .execution_options(**NO_SYNC)
    )
    opted_out = table.person_id.in_(select(DataOptOutRow.person_id))
    session.execute(
        update(table).values(person_opted_out=opted_out).where(among).execution_options(**NO_SYNC)
    )


def refresh(session: Session, people: Collection[uuid.UUID]) -> None:
    """Copy these people's fields onto all their units (the caller has flushed)."""
    ordered = sorted(people)
    for table in UNIT_TABLES:
        for start in range(0, len(ordered), CHUNK):
            _refresh(session, table, table.person_id.in_(ordered[start : start + CHUNK]))


def refresh_all(session: Session) -> None:
    """Copy every person's fields onto every unit: after rows were written by other means
    than the handlers (a bulk load)."""
    for table in UNIT_TABLES:
        _refresh(session, table, true())
