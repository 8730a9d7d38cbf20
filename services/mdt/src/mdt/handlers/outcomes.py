"""The outcomes service's person-level events: measures recorded and scored."""

from __future__ import annotations

from carethread.db import UnitOfWork
from carethread.events import Event
from carethread.events.outcomes import OutcomeMeasureRecordedV1
from mdt.handlers.common import add_to_timeline, changes, mark_fresh, router
from mdt.store.poll import Record
from mdt.store.tables import OutcomeMeasureRow


def _summary(d: OutcomeMeasureRecordedV1) -> str:
    headline = d.scores[0] if d.scores else None
    text = f"{d.instrument.upper()} recorded"
    if headline is not None:
        text += f": {headline.scale} {headline.value:g}"
        if headline.band:
            text += f" ({headline.band})"
    if d.change_since_first is not None:
        direction = (d.change_direction or "changed").replace("_", " ")
        text += f"; {direction} ({d.change_since_first:+g} since first)"
    return text


@router.on(OutcomeMeasureRecordedV1)
async def on_outcome_measure_recorded(
    event: Event[OutcomeMeasureRecordedV1], uow: UnitOfWork
) -> None:
    """Measures are recorded once and never change: the measure id is enough to keep one."""
    d = event.data
    if d.scores:
        headline = d.scores[0]  # the scale that stands for the whole instrument
        changes(uow).change(
            OutcomeMeasureRow,
            d.measure_id,
            _kept,
            person_id=d.person_id,
            instrument=d.instrument,
            scale=headline.scale,
            value=headline.value,
            recorded_at=d.recorded_at,
            change_since_first=d.change_since_first,
            change_direction=d.change_direction,
        )
    add_to_timeline(
        uow,
        event.envelope,
        person_id=d.person_id,
        occurred_at=d.recorded_at,
        summary=_summary(d),
        organisation=d.recorded_by_org,
    )
    mark_fresh(uow, event.envelope)
    changes(uow).refresh(d.person_id)


def _kept(measure: Record) -> None:
    """A measure already stored stays as it is; a new one is stored as recorded."""
