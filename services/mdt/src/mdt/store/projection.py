"""Keeps each person's caseload line in step with the facts the handlers store.

A handler stores what its event said (guarded by ``sequence``) and marks the person; when
the unit of work commits, the lines of everyone marked are recomputed from all of their
stored facts — so a line is the same whichever order the events came in, and a poll of
hundreds of events about one person recomputes their line once, with a handful of queries
for the whole poll rather than several per event.

The recomputation runs in the session's ``before_commit`` hook: under SQLAlchemy's asyncio
extension that hook runs inside the commit's greenlet, where the session may still query."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

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

MARKED = "mdt.people_to_refresh"
CHUNK = 500  # people per round of queries (well inside every driver's parameter limit)
T = TypeVar("T")


def refresh_on_commit(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Recompute this person's caseload line when the unit of work commits."""
    sync = session.sync_session
    marked: set[uuid.UUID] | None = sync.info.get(MARKED)
    if marked is None:
        marked = sync.info[MARKED] = set()
        if not event.contains(sync, "before_commit", _refresh_marked):
            event.listen(sync, "before_commit", _refresh_marked)
    marked.add(person_id)


def _refresh_marked(session: Session) -> None:
    people = sorted(session.info.pop(MARKED, ()))
    for start in range(0, len(people), CHUNK):
        _refresh(session, people[start : start + CHUNK])


def _by_person(session: Session, table: type[T], people: Sequence[uuid.UUID]) -> dict[Any, list[T]]:
    column = table.person_id  # type: ignore[attr-defined]
    grouped: dict[Any, list[T]] = defaultdict(list)
    for row in session.scalars(select(table).where(column.in_(people))):
        grouped[row.person_id].append(row)  # type: ignore[attr-defined]
    return grouped


def _refresh(session: Session, people: Sequence[uuid.UUID]) -> None:
    snapshots = {s.person_id: s for s in _flat(_by_person(session, PersonSnapshotRow, people))}
    referrals = _by_person(session, CaseloadReferralRow, people)
    plans = _by_person(session, CarePlanRow, people)
    members = _by_person(session, CareTeamMemberRow, people)
    actions = _by_person(session, PlanActionRow, people)
    measures = _by_person(session, OutcomeMeasureRow, people)
    lines = {r.person_id: r for r in _flat(_by_person(session, CaseloadPersonRow, people))}
    changed: dict[str, uuid.UUID] = {}
    for person_id in people:
        snapshot = snapshots.get(person_id)
        received = [r for r in referrals[person_id] if r.received]
        latest = max(received, key=lambda r: (r.received_at, r.referral_id), default=None)
        identity = identify(
            snapshot.front_door if snapshot else None,
            snapshot.care_record if snapshot else None,
            latest,
        )
        line = summarise(
            identity,
            referrals[person_id],
            plans[person_id],
            members[person_id],
            actions[person_id],
            measures[person_id],
        )
        values: dict[str, Any] = {
            **asdict(line),
            "given_name": identity.given_name,
            "family_name": identity.family_name,
            "birth_date": identity.birth_date,
        }
        row = lines.get(person_id)
        if row is None:
            session.add(CaseloadPersonRow(person_id=person_id, **values))
            places = [line.neighbourhood]
        elif any(getattr(row, name) != value for name, value in values.items()):
            places = [row.neighbourhood, line.neighbourhood]
            for name, value in values.items():
                setattr(row, name, value)
        else:
            continue  # nothing an open screen would show differently
        changed.update({place: person_id for place in places if place is not None})
    _tell_streams(session, changed)


def _flat(grouped: dict[Any, list[T]]) -> list[T]:
    return [row for rows in grouped.values() for row in rows]


def _tell_streams(session: Session, changed: dict[str, uuid.UUID]) -> None:
    """Move the change counter of every neighbourhood a line left, joined or changed in."""
    if not changed:
        return
    now = datetime.now(UTC)
    counters = {
        c.neighbourhood: c
        for c in session.scalars(
            select(NeighbourhoodChangeRow).where(NeighbourhoodChangeRow.neighbourhood.in_(changed))
        )
    }
    for place, person_id in sorted(changed.items()):
        counter = counters.get(place)
        if counter is None:
            session.add(
                NeighbourhoodChangeRow(
                    neighbourhood=place, version=1, changed_at=now, person_id=person_id
                )
            )
        else:
            counter.version += 1
            counter.changed_at, counter.person_id = now, person_id
