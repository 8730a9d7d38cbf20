"""Response models of the indicators API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class ConditionOut(BaseModel):
    field: str
    op: str
    value: str | list[str] | None = None


class IndicatorOut(BaseModel):
    id: str
    title: str
    description: str
    unit: str
    kind: str = Field(description="proportion (numerator of denominator) or count")
    period_field: str
    life_course: str
    ncl_priority: str
    higher_is_better: bool
    denominator: list[ConditionOut]
    numerator: list[ConditionOut]
    breakdowns: list[str]


class IndicatorList(BaseModel):
    items: list[IndicatorOut]


class PeriodOut(BaseModel):
    label: str
    start: date
    end: date = Field(description="the last day, inclusive")


class CellOut(BaseModel):
    group: dict[str, str] = Field(description="the label of each breakdown dimension")
    numerator: int | None = Field(description="rounded; null when suppressed")
    denominator: int | None = Field(description="rounded; null when suppressed")
    value: float | None = Field(description="proportion 0-1, or the rounded count")
    ci_low: float | None = Field(description="Wilson 95% interval, lower bound")
    ci_high: float | None
    suppressed: bool


class InequalityOut(BaseModel):
    """Across IMD 2019 quintiles (1 = most deprived 20% nationally)."""

    most_deprived: CellOut | None
    least_deprived: CellOut | None
    absolute_gap: float | None = Field(description="most deprived minus least deprived")
    relative_gap: float | None = Field(description="most deprived divided by least deprived")
    slope_index_of_inequality: float | None = Field(
        description="most deprived minus least deprived end of the population-weighted "
        "regression on cumulative rank midpoints"
    )
    note: str | None


class DisclosureOut(BaseModel):
    suppressed_counts: str
    rounded_to: int
    national_data_opt_out: str = "people who registered an opt-out are left out"


class IndicatorResult(BaseModel):
    indicator: IndicatorOut
    period: PeriodOut | None
    by: list[str]
    overall: CellOut
    cells: list[CellOut]
    inequality: InequalityOut
    disclosure: DisclosureOut
    computed_at: datetime


class SeriesPoint(BaseModel):
    period: PeriodOut
    overall: CellOut
    cells: list[CellOut]


class IndicatorSeries(BaseModel):
    indicator: IndicatorOut
    by: list[str]
    points: list[SeriesPoint]
    disclosure: DisclosureOut
