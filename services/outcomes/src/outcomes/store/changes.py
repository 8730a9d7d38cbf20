"""A person's first-to-latest change rows, made from their measures (no I/O but the sync
rebuild a merge runs at commit)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from outcomes.domain.change import Pair, Taken, pair
from outcomes.domain.instruments import Instrument, instrument
from outcomes.store.tables import MeasureChangeRow, MeasureRow


def taken(row: MeasureRow) -> Taken:
    return Taken(
        measure_id=str(row.id),
        recorded_at=row.recorded_at,
        scores={s["scale"]: float(s["value"]) for s in row.scores},
    )


def change_rows(
    person_id: uuid.UUID, scored: Instrument, found: Pair | None
) -> list[MeasureChangeRow]:
    """The change rows of one instrument's pair (none until the person has two)."""
    if found is None:
        return []
    return [
        MeasureChangeRow(
            person_id=person_id,
            instrument=scored.id.value,
            scale=c.scale,
            before_measure_id=uuid.UUID(found.before.measure_id),
            after_measure_id=uuid.UUID(found.after.measure_id),
            before_value=c.before,
            after_value=c.after,
            change=c.change,
            direction=c.direction.value,
            before_at=found.before.recorded_at,
            after_at=found.after.recorded_at,
        )
        for c in found.changes
    ]


def rebuild_all_changes(
    session: Session, people: Sequence[uuid.UUID], person_id: uuid.UUID
) -> None:
    """Replace the change rows of ``people`` with ``person_id``'s, recomputed on every
    instrument from the measures ``person_id`` holds now (a merge moved the others' to
    them): first to latest in time order, whoever's they were. The caller tracks the
    tallies of ``people`` and refreshes ``person_id``'s copies."""
    session.execute(
        delete(MeasureChangeRow)
        .where(MeasureChangeRow.person_id.in_(list(people)))
        .execution_options(synchronize_session=False)
    )
    rows = session.scalars(
        select(MeasureRow)
        .where(MeasureRow.person_id == person_id)
        .order_by(MeasureRow.recorded_at, MeasureRow.id)
    ).all()
    for name in sorted({r.instrument for r in rows}):
        scored = instrument(name)
        found = pair(scored, [taken(r) for r in rows if r.instrument == name])
        session.add_all(change_rows(person_id, scored, found))
