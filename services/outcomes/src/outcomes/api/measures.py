"""``/api/v1/measures`` and a person's measures with their before/after change."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from carethread.auth import CurrentUser
from carethread.service import UoWDep
from outcomes import use_cases
from outcomes.api.dependencies import IdempotencyKey, Now
from outcomes.api.schemas import (
    ChangeOut,
    ContextOut,
    MeasureCreate,
    MeasureRead,
    MeasureReceipt,
    PairOut,
    PersonMeasures,
    ScoreOut,
)
from outcomes.domain.change import Pair
from outcomes.store.tables import MeasureRow

router = APIRouter(prefix="/api/v1", tags=["measures"])


def to_read(row: MeasureRow) -> MeasureRead:
    return MeasureRead(
        id=row.id,
        person_id=row.person_id,
        instrument=row.instrument,
        answers=row.answers,
        scores=[ScoreOut.model_validate(s) for s in row.scores],
        score={s["scale"]: s["value"] for s in row.scores},
        context=ContextOut(kind=row.context_kind, id=row.context_id),
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        recorded_by_name=row.recorded_by_name,
        recorded_by_org=row.recorded_by_org,
    )


def to_pair(instrument: str, p: Pair) -> PairOut:
    return PairOut(
        instrument=instrument,
        before_measure_id=uuid.UUID(p.before.measure_id),
        before_at=p.before.recorded_at,
        after_measure_id=uuid.UUID(p.after.measure_id),
        after_at=p.after.recorded_at,
        changes=[
            ChangeOut(
                scale=c.scale,
                before=c.before,
                after=c.after,
                change=c.change,
                meaningful_change=c.threshold,
                direction=c.direction.value,
            )
            for c in p.changes
        ],
    )


@router.post("/measures", status_code=status.HTTP_201_CREATED, response_model=MeasureReceipt)
async def create_measure(
    body: MeasureCreate,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> MeasureReceipt:
    """Record a validated instrument for a person; the service scores and range-checks it."""
    recorded = await use_cases.record_measure(
        uow, body, user, now=now, idempotency_key=idempotency_key
    )
    await uow.commit()
    if recorded.replayed:
        response.status_code = status.HTTP_200_OK
    row = recorded.row
    return MeasureReceipt(**to_read(row).model_dump(), event_id=row.event_id)


@router.get("/persons/{person_id}/measures", response_model=PersonMeasures)
async def list_person_measures(
    person_id: uuid.UUID, uow: UoWDep, user: CurrentUser
) -> PersonMeasures:
    """Every measure recorded for the person, oldest first, and per instrument the change
    from their first to their latest against its meaningful-change threshold. An id merged
    into another (an NHS number trace) answers as the person now, under their id now."""
    results = await use_cases.person_measures(uow, person_id, user)
    await uow.commit()
    return PersonMeasures(
        person_id=results.person_id,
        measures=[to_read(r) for r in results.rows],
        pairs=[to_pair(name, p) for name, p in results.pairs],
    )
