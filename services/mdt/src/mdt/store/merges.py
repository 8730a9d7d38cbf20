"""Person merges in the view: one person known under two ids becomes one person.

The front door merges the id it minted for someone with no NHS number into the id their
NHS number gives, once a trace finds it (``person.merged``). The view then moves every row
it holds under the old id to the new one, combines the two snapshots of the person, drops
the old id's caseload line, and remembers the old id as an alias (``person_alias``): an
event for the old id that comes later — a late delivery, or a service that has not applied
the merge yet — is applied to the new id (``store.poll`` maps a poll's people through the
aliases before writing). So the view is the same whether the merge comes before, between
or after the old id's events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from carethread.db import among
from mdt.domain.freshness import is_newer
from mdt.store.tables import (
    CarePlanRow,
    CareTeamMemberRow,
    CaseloadPersonRow,
    CaseloadReferralRow,
    OutcomeMeasureRow,
    PersonAliasRow,
    PersonSnapshotRow,
    PlanActionRow,
    PlanGoalRow,
    TimelineEntryRow,
)
from mdt.store.writes import chunks, table_of, upsert

# The tables whose rows belong to a person by a ``person_id`` column (not their key).
_MOVED = tuple(
    table_of(row)
    for row in (
        CaseloadReferralRow,
        CarePlanRow,
        PlanGoalRow,
        PlanActionRow,
        CareTeamMemberRow,
        OutcomeMeasureRow,
        TimelineEntryRow,
    )
)
_ALIAS = table_of(PersonAliasRow)
_SNAPSHOT = table_of(PersonSnapshotRow)
_LINE = table_of(CaseloadPersonRow)


@dataclass(frozen=True)
class Merge:
    merged_person_id: uuid.UUID
    person_id: uuid.UUID
    merged_at: datetime
    event_id: uuid.UUID


def aliases_of(session: Session, people: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The merged ones among ``people``, each with the id they are now."""
    found: dict[uuid.UUID, uuid.UUID] = {}
    for chunk in chunks(sorted(set(people), key=lambda p: p.int)):
        statement = select(_ALIAS.c.merged_person_id, _ALIAS.c.person_id).where(
            among(session, _ALIAS.c.merged_person_id, chunk)
        )
        found.update({row.merged_person_id: row.person_id for row in session.execute(statement)})
    return found


def apply_merges(session: Session, merges: Iterable[Merge]) -> dict[str, uuid.UUID]:
    """Move each merged id's rows to the id it merged into; return the neighbourhoods whose
    caseload lost a line, each with the person now holding it (for the stream's counters).
    A merge already applied (an alias on record) changes nothing."""
    moved: dict[str, uuid.UUID] = {}
    done = aliases_of(session, (m.merged_person_id for m in merges))
    for merge in sorted(merges, key=lambda m: m.merged_person_id.int):
        old, new = merge.merged_person_id, merge.person_id
        if old == new or old in done:
            continue
        done[old] = new
        session.execute(
            _ALIAS.insert().values(
                merged_person_id=old,
                person_id=new,
                merged_at=merge.merged_at,
                event_id=merge.event_id,
            )
        )
        # Were anyone merged into the old id before (not something the front door does:
        # it merges only into ids from NHS numbers), they follow it.
        session.execute(update(_ALIAS).where(_ALIAS.c.person_id == old).values(person_id=new))
        for table in _MOVED:
            session.execute(update(table).where(table.c.person_id == old).values(person_id=new))
        _combine_snapshots(session, old, new)
        line = session.execute(
            delete(_LINE).where(_LINE.c.person_id == old).returning(_LINE.c.neighbourhood)
        ).first()
        if line is not None and line.neighbourhood is not None:
            moved[line.neighbourhood] = new
    return moved


def _combine_snapshots(session: Session, old: uuid.UUID, new: uuid.UUID) -> None:
    """One snapshot of the person from the two: from each source, the later description
    (the front door's by its sequence, the care record's by time then event id — the same
    rules the handlers apply, so the order of arrival never shows)."""
    rows = {
        row.person_id: row._asdict()
        for row in session.execute(select(_SNAPSHOT).where(_SNAPSHOT.c.person_id.in_([old, new])))
    }
    merged = rows.get(old)
    if merged is None:
        return
    kept: dict[str, Any] = rows.get(new) or {c.name: None for c in _SNAPSHOT.columns}
    kept["person_id"] = new
    if merged["front_door"] is not None and (
        kept["front_door"] is None
        or is_newer(merged["front_door_sequence"], kept["front_door_sequence"])
    ):
        kept["front_door"] = merged["front_door"]
        kept["front_door_sequence"] = merged["front_door_sequence"]
    if merged["care_record"] is not None and (
        kept["care_record"] is None
        or (merged["care_record_at"], merged["care_record_event"])
        > (kept["care_record_at"], kept["care_record_event"])
    ):
        kept["care_record"] = merged["care_record"]
        kept["care_record_at"] = merged["care_record_at"]
        kept["care_record_event"] = merged["care_record_event"]
    session.execute(delete(_SNAPSHOT).where(_SNAPSHOT.c.person_id == old))
    upsert(session, _SNAPSHOT, [kept])


def alias_tables() -> tuple[Table, ...]:
    """The tables a merge rewrites, for tests that check none keeps a merged id."""
    return (*_MOVED, _SNAPSHOT, _LINE)
