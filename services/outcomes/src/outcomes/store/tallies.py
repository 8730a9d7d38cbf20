"""Indicator tallies in the database: kept in step with the units in the writer's own
transaction, rebuilt from the units when an indicator's definition changes, and read by
breakdowns instead of the units.

Keeping them in step: a transaction that will change the units of some people first
takes what those people's units count for (``track``, before any change), and when it
commits takes it again (``settle``); the difference is added to the tallies in one
statement. On PostgreSQL, writers of the same people take an advisory lock per person
first, so two of them never count the same units from different starting points.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from carethread.db import UnitOfWork, among, on_postgres
from outcomes.domain import tallies
from outcomes.domain.breakdown import RawCount
from outcomes.domain.indicators import INDICATORS, Dimension, Indicator, Unit
from outcomes.domain.periods import Period
from outcomes.store.indicators import DIMENSION_COLUMNS, UNIT_TABLES, conditions_hold
from outcomes.store.tables import IndicatorTallyRow, IndicatorTallyStateRow

TRACKED = "outcomes.tallies.tracked_people"
MOVES = "outcomes.tallies.moves"
CHUNK = 500  # people per query, and tallies per statement
T = IndicatorTallyRow
KEY_COLUMNS = [T.__table__.c[f] for f in tallies.UNKNOWN_VALUES]
PRIMARY_KEY = ["indicator_id", "grouping", "day", *tallies.UNKNOWN_VALUES]


def _indicators_of(unit: Unit) -> list[Indicator]:
    return [i for i in INDICATORS if i.unit is unit]


def _columns_of(unit: Unit) -> list[str]:
    names = {"person_id"}
    for indicator in _indicators_of(unit):
        names |= tallies.fields_read(indicator)
    return sorted(names)


def lock_people(session: Session, people: Collection[uuid.UUID]) -> None:
    """One advisory lock per person, in one order for every writer (no deadlocks)."""
    if not people or not on_postgres(session):
        return  # SQLite has one writer at a time
    keys = sorted(p.int & (2**63 - 1) for p in people)
    session.execute(
        text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(:keys) AS k").bindparams(
            bindparam("keys", type_=postgresql.ARRAY(BigInteger))
        ),
        {"keys": keys},
    )


def cast_values(row: Any) -> Mapping[str, object]:
    return cast_type(Mapping[str, object], row)


def _count_units(session: Session, people: Collection[uuid.UUID], sign: int) -> None:
    moves: dict[tallies.TallyKey, tallies.Tally] = session.info.setdefault(MOVES, {})
    ordered = sorted(people)
    for unit, model in UNIT_TABLES.items():
        indicators = _indicators_of(unit)
        if not indicators:
            continue
        table = model.__table__
        columns = [table.c[n] for n in _columns_of(unit)]
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            query = select(*columns).where(among(session, table.c.person_id, chunk))
            for row in session.execute(query):
                tallies.add_unit(moves, indicators, cast_values(row._mapping), sign)


def track(
    session: Session, people: Collection[uuid.UUID], locked: Collection[uuid.UUID] = ()
) -> None:
    """The units of ``people`` are about to change in this transaction: take away what
    they count for now (their new counts are added when it commits). ``locked``: people
    this transaction has locked already."""
    tracked: set[uuid.UUID] = session.info.setdefault(TRACKED, set())
    new = set(people) - tracked
    if not new:
        return
    lock_people(session, new.difference(locked))
    _count_units(session, new, -1)
    tracked |= new


def settle(session: Session) -> None:
    """At commit: add what the tracked people's units count for now, and write the
    difference to the tallies."""
    tracked: set[uuid.UUID] = session.info.pop(TRACKED, set())
    if not tracked:
        session.info.pop(MOVES, None)
        return
    session.flush()
    _count_units(session, tracked, 1)
    moved = tallies.changed(session.info.pop(MOVES, {}))
    _add(session, moved)


def forget(session: Session) -> None:
    """Nothing tracked counts any more (the tallies were rebuilt in this transaction)."""
    session.info.pop(TRACKED, None)
    session.info.pop(MOVES, None)


def _add(session: Session, moved: dict[tallies.TallyKey, tallies.Tally]) -> None:
    rows = [
        {
            "indicator_id": k[0],
            "grouping": k[1],
            "day": k[2],
            **dict(zip(tallies.UNKNOWN_VALUES, k[3], strict=True)),
            "numerator": t.numerator,
            "denominator": t.denominator,
        }
        for k, t in moved.items()
    ]
    if not rows:
        return
    dialect: Any = postgresql if on_postgres(session) else sqlite
    table = T.__table__
    stmt = dialect.insert(table)
    # One statement (compiled once, cached), executed for every row in one round of the
    # driver's executemany.
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=PRIMARY_KEY,
            set_={
                "numerator": table.c.numerator + stmt.excluded.numerator,
                "denominator": table.c.denominator + stmt.excluded.denominator,
            },
        ),
        rows,
    )


def _day(session: Session, column: Any) -> ColumnElement[Any]:
    if isinstance(column.type, Date):
        day: ColumnElement[Any] = column
    elif on_postgres(session):
        day = cast(func.timezone("UTC", column), Date)
    else:
        day = func.date(column)  # SQLite keeps UTC timestamps as text
    return func.coalesce(day, literal(tallies.NO_DAY, Date))


def _rebuild_one(session: Session, indicator: Indicator) -> None:
    model = UNIT_TABLES[indicator.unit]
    session.execute(delete(T).where(T.indicator_id == indicator.id))
    day = _day(session, getattr(model, indicator.period_field))
    numerator = func.sum(case((conditions_hold(indicator.numerator, model), 1), else_=0))
    for grouping in tallies.GROUPINGS:
        keys: list[ColumnElement[Any]] = []
        for field, unknown in tallies.UNKNOWN_VALUES.items():
            column = getattr(model, field)
            keys.append(
                func.coalesce(column, literal(unknown, column.type))
                if field in grouping
                else literal(unknown, column.type)
            )
        grouped = [k for k, f in zip(keys, tallies.UNKNOWN_VALUES, strict=True) if f in grouping]
        query = (
            select(
                literal(indicator.id, String),
                literal(tallies.grouping_name(grouping), String),
                day,
                *keys,
                cast(numerator, Integer),
                cast(func.count(), Integer),
            )
            .where(
                conditions_hold(indicator.denominator, model),
                model.person_opted_out.is_(False),
            )
            .group_by(day, *grouped)
        )
        session.execute(insert(T).from_select([*PRIMARY_KEY, "numerator", "denominator"], query))
    state = session.get(IndicatorTallyStateRow, indicator.id)
    if state is None:
        state = IndicatorTallyStateRow(indicator_id=indicator.id)
        session.add(state)
    state.definition = tallies.definition(indicator)
    state.built_at = datetime.now(UTC)


def rebuild(session: Session, indicators: Sequence[Indicator] = INDICATORS) -> None:
    """Count the tallies of ``indicators`` afresh from their units. Writers keeping
    tallies wait meanwhile (PostgreSQL), so none is counted twice or missed."""
    session.flush()
    if on_postgres(session):
        session.execute(text("LOCK TABLE indicator_tally IN SHARE ROW EXCLUSIVE MODE"))
    for indicator in indicators:
        _rebuild_one(session, indicator)
    session.flush()


def stale(session: Session) -> list[Indicator]:
    """Indicators whose tallies were built for another definition, or never."""
    states = session.execute(
        select(IndicatorTallyStateRow.indicator_id, IndicatorTallyStateRow.definition)
    )
    built = {indicator_id: definition for indicator_id, definition in states}
    return [i for i in INDICATORS if built.get(i.id) != tallies.definition(i)]


async def counts(
    uow: UnitOfWork,
    indicator: Indicator,
    dimensions: Sequence[Dimension],
    period: Period | None,
) -> list[RawCount] | None:
    """The indicator's counts by ``dimensions`` from its tallies, as ``raw_counts`` gives
    them from the units; None when no tallies can answer (age band, or not yet built)."""
    fields = [f for d in dimensions for f in DIMENSION_COLUMNS[d]]
    grouping = tallies.grouping_for(fields)
    if grouping is None:
        return None
    built = await uow.session.scalar(
        select(IndicatorTallyStateRow.definition).where(
            IndicatorTallyStateRow.indicator_id == indicator.id
        )
    )
    if built != tallies.definition(indicator):
        return None
    read = sorted(set(fields), key=list(tallies.UNKNOWN_VALUES).index)
    columns = [T.__table__.c[f] for f in read]
    where = [T.indicator_id == indicator.id, T.grouping == tallies.grouping_name(grouping)]
    if period is not None:
        where += [T.day >= period.start, T.day < period.end]
    q = (
        select(*columns, func.sum(T.numerator), func.sum(T.denominator))
        .where(*where)
        .group_by(*columns)
    )
    out = []
    for row in (await uow.session.execute(q)).all():
        values = dict(zip(read, row, strict=False))
        numerator, denominator = int(row[len(read)] or 0), int(row[len(read) + 1] or 0)
        if denominator:
            key = tallies.raw_key(dimensions, DIMENSION_COLUMNS, values)
            out.append(RawCount(key, numerator, denominator))
    return out
