"""Events published by the outcomes service on ``carethread.outcomes.v1``.

A measure event is keyed by the person; it carries the computed scores, never the item
answers (licensed instruments' answers stay in the outcomes service) and never free text.
An indicator event is keyed by the indicator id and carries only published figures: counts
already suppressed and rounded for small numbers, so no person can be picked out.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from carethread.events import topics
from carethread.events.registry import EventData, registry


class _OutcomesEvent(EventData):
    topic: ClassVar[str] = topics.OUTCOMES
    source_service: ClassVar[str] = "outcomes"


class MeasureScore(BaseModel):
    """One reported scale of an instrument: SWEMWBS has ``metric`` and ``raw``; ONS4 one
    per item; GAD-7 and PHQ-9 a ``total`` with its severity band."""

    model_config = ConfigDict(extra="allow", frozen=True)

    scale: str
    value: float
    band: str | None = None


@registry.register
class OutcomeMeasureRecordedV1(_OutcomesEvent):
    """A validated instrument was recorded for a person and scored by the service."""

    event_type: ClassVar[str] = "carethread.outcome-measure.recorded.v1"

    measure_id: uuid.UUID
    person_id: uuid.UUID
    instrument: str  # ons4 | swemwbs | gad7 | phq9 | gas | pam | eq5d
    scores: list[MeasureScore]
    context_kind: str  # referral | social_prescription | review
    context_id: str | None = None
    recorded_at: datetime
    recorded_by_org: str | None = None
    # The person's change since their first measure on this instrument, headline scale.
    change_since_first: float | None = None
    change_direction: str | None = None  # improved | deteriorated | no_meaningful_change


class PublishedCell(BaseModel):
    """One breakdown cell as published: ``None`` where small numbers were suppressed."""

    model_config = ConfigDict(extra="allow", frozen=True)

    group: str
    numerator: int | None
    denominator: int | None
    value: float | None
    suppressed: bool


@registry.register
class IndicatorUpdatedV1(_OutcomesEvent):
    """An indicator's figures for a period and area moved (recomputed from its inputs)."""

    event_type: ClassVar[str] = "carethread.indicator.updated.v1"

    indicator_id: str
    period_start: date | None = None
    period_end: date | None = None
    neighbourhood: str | None = None
    by: str | None = None
    overall: PublishedCell
    cells: list[PublishedCell] = []
    computed_at: datetime
