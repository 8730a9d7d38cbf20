"""Keeps each person's caseload line in step with the facts the handlers store.

A handler stores what its event said (guarded by ``sequence``), then calls
``refresh_person``: the line is recomputed from all of the person's stored facts, so it is
the same whichever order the events came in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mdt.domain.caseload import summarise
from mdt.domain.person import identify
from mdt.store.tables import (
    CarePlanRow,
    CareTeamMemberRow,
    CaseloadPersonRow,
    CaseloadReferralRow,
    NeighbourhoodChangeRow,
    OutcomeMeasureRow,
    PersonSnapshotRow,
    PlanActionRow,
)

T = TypeVar("T")


async def _of_person(session: AsyncSession, table: type[T], person_id: uuid.UUID) -> Sequence[T]:
    column = table.person_id  # type: ignore[attr-defined]
    return (await session.scalars(select(table).where(column == person_id))).all()


async def refresh_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    await session.flush()
    snapshot = await session.get(PersonSnapshotRow, person_id)
    referrals = await _of_person(session, CaseloadReferralRow, person_id)
    received = [r for r in referrals if r.received]
    latest = max(received, key=lambda r: (r.received_at, r.referral_id), default=None)
    identity = identify(
        snapshot.front_door if snapshot else None,
        snapshot.care_record if snapshot else None,
        latest,
    )
    line = summarise(
        identity,
        referrals,
        await _of_person(session, CarePlanRow, person_id),
        await _of_person(session, CareTeamMemberRow, person_id),
        await _of_person(session, PlanActionRow, person_id),
        await _of_person(session, OutcomeMeasureRow, person_id),
    )
    values: dict[str, Any] = {
        **asdict(line),
        "given_name": identity.given_name,
        "family_name": identity.family_name,
        "birth_date": identity.birth_date,
    }
    row = await session.get(CaseloadPersonRow, person_id)
    if row is None:
        session.add(CaseloadPersonRow(person_id=person_id, **values))
        await _changed(session, person_id, line.neighbourhood)
        return
    if all(getattr(row, name) == value for name, value in values.items()):
        return  # nothing an open screen would show differently
    before = row.neighbourhood
    for name, value in values.items():
        setattr(row, name, value)
    await _changed(session, person_id, before, line.neighbourhood)


async def _changed(session: AsyncSession, person_id: uuid.UUID, *places: str | None) -> None:
    """Tell the streams of the neighbourhoods the person's line left or joined."""
    now = datetime.now(UTC)
    for place in {p for p in places if p is not None}:
        counter = await session.get(NeighbourhoodChangeRow, place)
        if counter is None:
            session.add(
                NeighbourhoodChangeRow(
                    neighbourhood=place, version=1, changed_at=now, person_id=person_id
                )
            )
        else:
            counter.version += 1
            counter.changed_at, counter.person_id = now, person_id
