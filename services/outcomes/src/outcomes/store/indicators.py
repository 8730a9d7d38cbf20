"""Indicator definitions turned into queries: count the units in the denominator (and the
numerator among them) per combination of the person fields a breakdown reads, leaving out
people who registered a national data opt-out. Each unit row carries its person's fields
(``store.dimensions``), so this is one grouped scan of the unit's table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from sqlalchemy import ColumnElement, Date, and_, case, func, select, true

from carethread.db import UnitOfWork
from outcomes.domain.breakdown import RawCount
from outcomes.domain.indicators import Condition, Dimension, Indicator, Unit
from outcomes.domain.periods import Period
from outcomes.store.tables import (
    GoalFactRow,
    MeasureChangeRow,
    OverdueActionRow,
    ReferralFactRow,
)

UnitTable = (
    type[ReferralFactRow] | type[MeasureChangeRow] | type[GoalFactRow] | type[OverdueActionRow]
)
UNIT_TABLES: dict[Unit, UnitTable] = {
    Unit.REFERRAL: ReferralFactRow,
    Unit.MEASURE_CHANGE: MeasureChangeRow,
    Unit.GOAL: GoalFactRow,
    Unit.OVERDUE_ACTION: OverdueActionRow,
}
# The unit's copies of the person fields each dimension reads (breakdown.RAW_FIELDS says
# how many).
DIMENSION_COLUMNS: dict[Dimension, tuple[str, ...]] = {
    Dimension.IMD_QUINTILE: ("person_imd_quintile",),
    Dimension.BOROUGH: ("person_borough",),
    Dimension.NEIGHBOURHOOD: ("person_neighbourhood",),
    Dimension.ETHNICITY: ("person_ethnicity_code",),
    Dimension.AGE_BAND: ("person_birth_date",),
    Dimension.SEX: ("person_sex",),
    Dimension.CORE20PLUS5: ("person_imd_quintile", "person_in_plus_group"),
}
# Facts about the unit's person a condition may use (indicators.PERSON_FACTS).
PERSON_FACT_COLUMNS = {
    "person.has_care_plan": "person_has_care_plan",
    "person.social_prescribed": "person_social_prescribed",
}


def _person_fact(name: str, table: UnitTable) -> ColumnElement[bool]:
    if name not in PERSON_FACT_COLUMNS:
        raise ValueError(f"unknown person fact {name}")
    column: ColumnElement[bool] = getattr(table, PERSON_FACT_COLUMNS[name]).is_(True)
    return column


def _condition(c: Condition, table: UnitTable) -> ColumnElement[bool]:
    if c.field.startswith("person."):
        fact = _person_fact(c.field, table)
        if c.op == "is_true":
            return fact
        if c.op == "is_false":
            return ~fact
        raise ValueError(f"{c.field} takes is_true or is_false")
    column = getattr(table, c.field)
    match c.op:
        case "eq":
            return column == c.value  # type: ignore[no-any-return]
        case "in":
            return column.in_(list(c.value or ()))  # type: ignore[no-any-return]
        case "is_true":
            return column.is_(True)  # type: ignore[no-any-return]
        case "is_false":
            return column.is_(False)  # type: ignore[no-any-return]
        case "is_null":
            return column.is_(None)  # type: ignore[no-any-return]
        case "not_null":
            return column.is_not(None)  # type: ignore[no-any-return]
    raise ValueError(f"unknown operator {c.op}")


def conditions_hold(conditions: Sequence[Condition], table: UnitTable) -> ColumnElement[bool]:
    return and_(true(), *(_condition(c, table) for c in conditions))


def _in_period(indicator: Indicator, table: UnitTable, period: Period) -> ColumnElement[bool]:
    column = getattr(table, indicator.period_field)
    if isinstance(column.type, Date):
        start: date | datetime = period.start
        end: date | datetime = period.end
    else:
        start = datetime.combine(period.start, time(), tzinfo=UTC)
        end = datetime.combine(period.end, time(), tzinfo=UTC)
    return and_(column >= start, column < end)


async def raw_counts(
    uow: UnitOfWork,
    indicator: Indicator,
    dimensions: Sequence[Dimension],
    period: Period | None,
) -> list[RawCount]:
    table = UNIT_TABLES[indicator.unit]
    columns = [getattr(table, name) for d in dimensions for name in DIMENSION_COLUMNS[d]]
    numerator = func.sum(case((conditions_hold(indicator.numerator, table), 1), else_=0))
    where = [
        conditions_hold(indicator.denominator, table),
        # The national data opt-out: left out of every population indicator.
        table.person_opted_out.is_(False),
        _in_period(indicator, table, period) if period else true(),
    ]
    q = select(*columns, numerator, func.count()).select_from(table).where(*where)
    if columns:
        q = q.group_by(*columns)
    rows = (await uow.session.execute(q)).all()
    width = len(columns)
    return [
        RawCount(tuple(row[:width]), int(row[width] or 0), int(row[width + 1] or 0))
        for row in rows
        if row[width + 1]
    ]
