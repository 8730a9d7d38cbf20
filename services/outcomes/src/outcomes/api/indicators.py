"""``/api/v1/indicators``: the outcomes framework's indicators, broken down to show
inequality, as JSON, a monthly series and CSV. Aggregates only, for analysts."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from carethread.service import UoWDep
from outcomes import reporting
from outcomes.api.dependencies import Analyst, Now, Settings
from outcomes.api.indicator_schemas import (
    CellOut,
    ConditionOut,
    DisclosureOut,
    IndicatorList,
    IndicatorOut,
    IndicatorResult,
    IndicatorSeries,
    InequalityOut,
    PeriodOut,
    SeriesPoint,
)
from outcomes.domain.breakdown import PublishedCell
from outcomes.domain.disclosure import Policy
from outcomes.domain.indicators import INDICATORS, Condition, Dimension, Indicator
from outcomes.domain.periods import Period, months

router = APIRouter(prefix="/api/v1/indicators", tags=["indicators"])
By = Annotated[
    str | None,
    Query(
        description="one or two of: " + ", ".join(d.value for d in Dimension),
        examples=["imd_quintile", "imd_quintile,sex"],
    ),
]
PeriodText = Annotated[
    str | None,
    Query(
        alias="period",
        description="2026, 2026-Q3, 2026-09, FY2026 or 2026-04-01/2026-09-30; all time if absent",
    ),
]
MAX_SERIES_MONTHS = 60
IMD = [Dimension.IMD_QUINTILE]


def _condition(c: Condition) -> ConditionOut:
    value = list(c.value) if isinstance(c.value, tuple) else c.value
    return ConditionOut(field=c.field, op=c.op, value=value)


def indicator_out(i: Indicator) -> IndicatorOut:
    return IndicatorOut(
        id=i.id,
        title=i.title,
        description=i.description,
        unit=i.unit.value,
        kind=i.kind.value,
        period_field=i.period_field,
        life_course=i.life_course.value,
        ncl_priority=i.ncl_priority,
        higher_is_better=i.higher_is_better,
        denominator=[_condition(c) for c in i.denominator],
        numerator=[_condition(c) for c in i.numerator],
        breakdowns=[d.value for d in Dimension],
    )


def policy(settings: Settings) -> Policy:
    return Policy(max_small=settings.suppress_up_to, round_to=settings.round_to)


def disclosure(p: Policy) -> DisclosureOut:
    return DisclosureOut(suppressed_counts=f"1 to {p.max_small}", rounded_to=p.round_to)


def cell_out(c: PublishedCell, dims: list[Dimension]) -> CellOut:
    return CellOut(
        group={d.value: label for d, label in zip(dims, c.group, strict=True)},
        numerator=c.numerator,
        denominator=c.denominator,
        value=c.value,
        ci_low=c.ci_low,
        ci_high=c.ci_high,
        suppressed=c.suppressed,
    )


def period_out(p: Period | None) -> PeriodOut | None:
    return PeriodOut(label=p.label, start=p.start, end=p.last_day) if p else None


@router.get("", response_model=IndicatorList)
async def list_indicators(user: Analyst) -> IndicatorList:
    """Every indicator's definition: unit, denominator and numerator, period, life-course
    stage and NCL priority."""
    return IndicatorList(items=[indicator_out(i) for i in INDICATORS])


@router.get("/{indicator_id}", response_model=IndicatorResult)
async def get_indicator(
    indicator_id: str,
    uow: UoWDep,
    user: Analyst,
    settings: Settings,
    now: Now,
    by: By = None,
    period_text: PeriodText = None,
) -> IndicatorResult:
    """The indicator for a period, overall and by the chosen dimensions, with Wilson 95%
    intervals, the gap between the most and least deprived quintiles and the slope index
    of inequality; small numbers suppressed, others rounded."""
    ind, dims, when = (
        reporting.indicator(indicator_id),
        reporting.dimensions(by),
        reporting.period(period_text),
    )
    p = policy(settings)
    result = await reporting.compute(uow, ind, dims, when, p, today=now.date())
    q = result.inequality
    return IndicatorResult(
        indicator=indicator_out(ind),
        period=period_out(when),
        by=[d.value for d in dims],
        overall=cell_out(result.overall, []),
        cells=[cell_out(c, dims) for c in result.cells],
        inequality=InequalityOut(
            most_deprived=cell_out(q.most_deprived, IMD) if q.most_deprived else None,
            least_deprived=cell_out(q.least_deprived, IMD) if q.least_deprived else None,
            absolute_gap=q.gap.absolute if q.gap else None,
            relative_gap=q.gap.relative if q.gap else None,
            slope_index_of_inequality=q.slope_index,
            note=q.note,
        ),
        disclosure=disclosure(p),
        computed_at=now,
    )


@router.get("/{indicator_id}/series", response_model=IndicatorSeries)
async def get_indicator_series(
    indicator_id: str,
    uow: UoWDep,
    user: Analyst,
    settings: Settings,
    now: Now,
    by: By = None,
    period_text: PeriodText = None,
) -> IndicatorSeries:
    """Month by month over the period (the last twelve months if none is given)."""
    ind, dims = reporting.indicator(indicator_id), reporting.dimensions(by)
    when = reporting.period(period_text) or Period(
        "last-12-months", date(now.year - 1, now.month, 1), now.date()
    )
    points = months(when.start, when.end)[-MAX_SERIES_MONTHS:]
    p = policy(settings)
    out = []
    for month in points:
        r = await reporting.compute(uow, ind, dims, month, p, today=now.date())
        out.append(
            SeriesPoint(
                period=PeriodOut(label=month.label, start=month.start, end=month.last_day),
                overall=cell_out(r.overall, []),
                cells=[cell_out(c, dims) for c in r.cells],
            )
        )
    return IndicatorSeries(
        indicator=indicator_out(ind),
        by=[d.value for d in dims],
        points=out,
        disclosure=disclosure(p),
    )


CSV_COLUMNS = [
    "indicator_id",
    "period_start",
    "period_end",
    "breakdown",
    "group",
    "numerator",
    "denominator",
    "value",
    "ci_low",
    "ci_high",
    "suppressed",
]


def _blank(value: object) -> object:
    return "" if value is None else value


@router.get(
    "/{indicator_id}/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the published figures"}},
)
async def export_indicator_csv(
    indicator_id: str,
    uow: UoWDep,
    user: Analyst,
    settings: Settings,
    now: Now,
    by: By = None,
    period_text: PeriodText = None,
) -> Response:
    """The published figures (suppressed and rounded exactly as in JSON), one row per cell
    plus the overall row."""
    ind, dims, when = (
        reporting.indicator(indicator_id),
        reporting.dimensions(by),
        reporting.period(period_text),
    )
    result = await reporting.compute(uow, ind, dims, when, policy(settings), today=now.date())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    breakdown_name = "+".join(d.value for d in dims) or "all"
    for c, name in [(result.overall, "all"), *((c, breakdown_name) for c in result.cells)]:
        writer.writerow(
            [
                ind.id,
                when.start.isoformat() if when else "",
                when.last_day.isoformat() if when else "",
                name,
                " / ".join(c.group) or "all",
                _blank(c.numerator),
                _blank(c.denominator),
                _blank(c.value),
                _blank(c.ci_low),
                _blank(c.ci_high),
                "true" if c.suppressed else "false",
            ]
        )
    filename = f"{ind.id}{'-' + when.label if when else ''}.csv".replace("/", "_")
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
