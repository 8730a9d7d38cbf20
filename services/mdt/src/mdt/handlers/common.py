"""What every handler does besides its own projection: the timeline entry and freshness."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from carethread.db import UnitOfWork
from carethread.events import CloudEvent
from carethread.messaging import EventRouter
from mdt.store import rows
from mdt.store.tables import SourceFreshnessRow, TimelineEntryRow

router = EventRouter()


def source_service(envelope: CloudEvent) -> str:
    return envelope.source.removeprefix("carethread/")


async def mark_fresh(uow: UnitOfWork, envelope: CloudEvent) -> None:
    """Per source: the latest event applied (by its time, then id, so the answer does not
    depend on arrival order) and how many were applied."""
    source = source_service(envelope)
    row = await rows.find(uow.session, SourceFreshnessRow, source)
    now = datetime.now(UTC)
    if row is None:
        fresh = SourceFreshnessRow(
            source_service=source,
            last_event_id=envelope.id,
            last_event_time=envelope.time,
            applied_at=now,
            events_applied=1,
        )
        rows.add(uow.session, fresh, source)
        return
    row.events_applied += 1
    row.applied_at = now
    if (envelope.time, envelope.id) >= (row.last_event_time, row.last_event_id):
        row.last_event_id, row.last_event_time = envelope.id, envelope.time


def add_to_timeline(
    uow: UnitOfWork,
    envelope: CloudEvent,
    *,
    person_id: uuid.UUID,
    occurred_at: datetime,
    summary: str,
    organisation: str | None,
    directory_service_id: uuid.UUID | None = None,
) -> None:
    uow.session.add(
        TimelineEntryRow(
            event_id=envelope.id,
            person_id=person_id,
            occurred_at=occurred_at,
            source_service=source_service(envelope),
            event_type=envelope.type,
            summary=summary[:500],
            organisation=organisation,
            directory_service_id=directory_service_id,
        )
    )


def words(code: str) -> str:
    return code.replace("_", " ").replace("-", " ")
