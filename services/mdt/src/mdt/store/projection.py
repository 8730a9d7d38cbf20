"""Keeps each person's caseload line in step with the facts the handlers store.

Once a poll's changes are written (``store.poll``), the lines of everyone they touched are
recomputed from all of their stored facts — so a line is the same whichever order the
events came in, and a poll of hundreds of events recomputes each person's line once, with
one query per table for the whole poll. The facts are read as plain rows (no ORM objects:
they are only read), and only lines that differ are written back, in one upsert."""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from carethread.db import among
from mdt.domain.caseload import summarise
from mdt.domain.person import identify
from mdt.store.tables import (
    CarePlanRow,
    CareTeamMemberRow,
    CaseloadPersonRow,
    CaseloadReferralRow,
    MdtBase,
    OutcomeMeasureRow,
    PersonSnapshotRow,
    PlanActionRow,
)
from mdt.store.writes import chunks, table_of, upsert


def refresh(session: Session, people: Sequence[uuid.UUID]) -> dict[str, uuid.UUID]:
    """Recompute the caseload lines of ``people`` (sorted, so locks are taken in order);
    return the neighbourhoods whose caseload moved, each with the last person who moved it."""
    changed: dict[str, uuid.UUID] = {}
    for chunk in chunks(people):
        changed.update(_refresh(session, chunk))
    return changed


def _by_person(
    session: Session, row_class: type[MdtBase], people: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Row[Any]]]:
    table = table_of(row_class)
    grouped: dict[uuid.UUID, list[Row[Any]]] = defaultdict(list)
    for row in session.execute(
        select(table).where(among(session, table.c.person_id, people))
    ).all():
        grouped[row.person_id].append(row)
    return grouped


def _refresh(session: Session, people: Sequence[uuid.UUID]) -> dict[str, uuid.UUID]:
    """Write the lines that changed; return the neighbourhoods whose caseload moved."""
    snapshots = _by_person(session, PersonSnapshotRow, people)
    referrals = _by_person(session, CaseloadReferralRow, people)
    plans = _by_person(session, CarePlanRow, people)
    members = _by_person(session, CareTeamMemberRow, people)
    actions = _by_person(session, PlanActionRow, people)
    measures = _by_person(session, OutcomeMeasureRow, people)
    stored = _stored_lines(session, people)
    lines: list[dict[str, Any]] = []
    changed: dict[str, uuid.UUID] = {}
    for person_id in people:
        snapshot = snapshots[person_id][0] if snapshots[person_id] else None
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
            "person_id": person_id,
            **vars(line),  # shallowly: ``dataclasses.asdict`` deep-copies every list
            "given_name": identity.given_name,
            "family_name": identity.family_name,
            "birth_date": identity.birth_date,
        }
        values["line_digest"] = digest = _digest(values)
        before = stored.get(person_id)
        if before is not None and before[1] == digest:
            continue  # nothing an open screen would show differently
        lines.append(values)
        places = [line.neighbourhood] + ([before[0]] if before else [])
        changed.update({place: person_id for place in places if place is not None})
    upsert(session, table_of(CaseloadPersonRow), lines)
    return changed


def _stored_lines(
    session: Session, people: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str | None, str | None]]:
    """Each stored line's neighbourhood and digest: all a poll needs to know of it."""
    table = table_of(CaseloadPersonRow)
    return {
        row.person_id: (row.neighbourhood, row.line_digest)
        for row in session.execute(
            select(table.c.person_id, table.c.neighbourhood, table.c.line_digest).where(
                among(session, table.c.person_id, people)
            )
        ).all()
    }


def _digest(values: dict[str, Any]) -> str:
    """The same for the same line: its values are built in one order from the same types,
    so their ``repr`` is too."""
    return hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()
