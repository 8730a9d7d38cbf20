"""What the outcomes service publishes."""

from __future__ import annotations

from carethread.events import CloudEvent, new_event
from carethread.events.outcomes import MeasureScore, OutcomeMeasureRecordedV1
from outcomes.domain.change import Pair
from outcomes.domain.instruments import Scored
from outcomes.store.tables import MeasureRow


def measure_recorded(
    row: MeasureRow, scored: Scored, change: Pair | None, neighbourhood: str | None
) -> CloudEvent:
    headline = (
        next((c for c in change.changes if c.scale == scored.headline.scale), None)
        if change
        else None
    )
    data = OutcomeMeasureRecordedV1(
        measure_id=row.id,
        person_id=row.person_id,
        instrument=row.instrument,
        scores=[MeasureScore(scale=s.scale, value=s.value, band=s.band) for s in scored.scores],
        context_kind=row.context_kind,
        context_id=row.context_id,
        recorded_at=row.recorded_at,
        recorded_by_org=row.recorded_by_org,
        change_since_first=headline.change if headline else None,
        change_direction=headline.direction.value if headline else None,
    )
    return new_event(
        data, subject=str(row.id), person_id=row.person_id, neighbourhood=neighbourhood
    )
