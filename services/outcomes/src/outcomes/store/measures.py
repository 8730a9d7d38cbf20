"""Measures as recorded, and the pre/post change rows rebuilt from them."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select

from carethread.db import UnitOfWork
from outcomes.domain.change import Pair, pair
from outcomes.domain.instruments import Instrument
from outcomes.store.changes import change_rows, taken
from outcomes.store.pending import refresh_people_on_commit, track_people
from outcomes.store.tables import MeasureChangeRow, MeasureRow

__all__ = ["by_idempotency_key", "change_rows", "for_person", "rebuild_change", "taken"]


async def for_person(
    uow: UnitOfWork, person_id: uuid.UUID, instrument: str | None = None
) -> list[MeasureRow]:
    q = select(MeasureRow).where(MeasureRow.person_id == person_id)
    if instrument is not None:
        q = q.where(MeasureRow.instrument == instrument)
    return list(await uow.session.scalars(q.order_by(MeasureRow.recorded_at, MeasureRow.id)))


async def by_idempotency_key(uow: UnitOfWork, key: str) -> MeasureRow | None:
    found: MeasureRow | None = await uow.session.scalar(
        select(MeasureRow).where(MeasureRow.idempotency_key == key)
    )
    return found


async def rebuild_change(
    uow: UnitOfWork, person_id: uuid.UUID, instrument: Instrument
) -> Pair | None:
    """Recompute the person's first-to-latest change on ``instrument`` from every measure
    they have, so the rows never depend on the order measures were recorded in."""
    await track_people(
        uow, [person_id]
    )  # before the rows change: the tallies move by the difference
    rows = await for_person(uow, person_id, instrument.id.value)
    await uow.session.execute(
        delete(MeasureChangeRow).where(
            MeasureChangeRow.person_id == person_id,
            MeasureChangeRow.instrument == instrument.id.value,
        )
    )
    found = pair(instrument, [taken(r) for r in rows])
    refresh_people_on_commit(uow, [person_id])  # the new rows get the person's fields
    uow.session.add_all(change_rows(person_id, instrument, found))
    return found
