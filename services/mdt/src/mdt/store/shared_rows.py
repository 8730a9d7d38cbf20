"""The view's rows that every consumer of it writes: per source service, how fresh the view
is, and per neighbourhood, the change counter an open caseload stream watches.

With several consumers in the view's group (``MDT_WORKERS``, or replicas), each applies
the events of its own partitions; a person's rows are written by one consumer at a time
(``store.poll`` locks the people a poll touches), but these rows are written by every
poll of every consumer. So they are never read, changed and written back (two consumers
doing that at once would lose one's update), nor locked for a whole poll: each is merged
by the database in the upsert itself, under its row lock, written last in the poll's
transaction and in key order, so a consumer holds their locks only for the moment before
it commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, tuple_
from sqlalchemy.orm import Session

from carethread.db import conflict_insert
from mdt.store.tables import NeighbourhoodChangeRow, SourceFreshnessRow
from mdt.store.writes import table_of


@dataclass
class SourceApplied:
    """What a poll applied of one source service's events."""

    last_event_id: uuid.UUID
    last_event_time: datetime
    events: int = 0

    def add(self, event_id: uuid.UUID, event_time: datetime) -> None:
        """Count an event; the latest by time, then id, whatever order they came in."""
        self.events += 1
        if (event_time, event_id) > (self.last_event_time, self.last_event_id):
            self.last_event_id, self.last_event_time = event_id, event_time


def merge_freshness(
    session: Session, applied: dict[str, SourceApplied], applied_at: datetime
) -> None:
    """Add a poll's counts to each source's freshness; keep the later last event."""
    if not applied:
        return
    table = table_of(SourceFreshnessRow)
    statement = conflict_insert(session, table)
    new = statement.excluded
    newer = tuple_(new.last_event_time, new.last_event_id) >= tuple_(
        table.c.last_event_time, table.c.last_event_id
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.source_service],
        set_={
            "events_applied": table.c.events_applied + new.events_applied,
            "applied_at": new.applied_at,
            "last_event_id": case((newer, new.last_event_id), else_=table.c.last_event_id),
            "last_event_time": case((newer, new.last_event_time), else_=table.c.last_event_time),
        },
    )
    session.execute(
        statement,
        [
            {
                "source_service": source,
                "last_event_id": poll.last_event_id,
                "last_event_time": poll.last_event_time,
                "applied_at": applied_at,
                "events_applied": poll.events,
            }
            for source, poll in sorted(applied.items())
        ],
    )


def count_changes(session: Session, changed: dict[str, uuid.UUID], at: datetime) -> None:
    """Move the change counter of each neighbourhood in ``changed`` (the person whose line
    changed last there) by one."""
    if not changed:
        return
    table = table_of(NeighbourhoodChangeRow)
    statement = conflict_insert(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.neighbourhood],
        set_={
            "version": table.c.version + 1,
            "changed_at": statement.excluded.changed_at,
            "person_id": statement.excluded.person_id,
        },
    )
    session.execute(
        statement,
        [
            {"neighbourhood": place, "version": 1, "changed_at": at, "person_id": person_id}
            for place, person_id in sorted(changed.items())
        ],
    )
