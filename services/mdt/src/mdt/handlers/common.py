"""What every handler does besides its own projection: the timeline entry and freshness.

Handlers say what their event changes and leave the writing to the poll (``store.poll``),
which applies the changes of all the events in the transaction together at commit."""

from __future__ import annotations

import uuid
from datetime import datetime

from carethread.db import UnitOfWork
from carethread.events import CloudEvent
from carethread.messaging import EventRouter
from mdt.store.poll import Poll, poll

router = EventRouter()


def source_service(envelope: CloudEvent) -> str:
    return envelope.source.removeprefix("carethread/")


def changes(uow: UnitOfWork) -> Poll:
    """The changes of this unit of work's events, written together when it commits."""
    return poll(uow.session)


def mark_fresh(uow: UnitOfWork, envelope: CloudEvent) -> None:
    """Per source: the latest event applied (by its time, then id, so the answer does not
    depend on arrival order) and how many were applied."""
    changes(uow).applied(source_service(envelope), envelope.id, envelope.time)


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
    changes(uow).add_to_timeline(
        event_id=envelope.id,
        person_id=person_id,
        occurred_at=occurred_at,
        source_service=source_service(envelope),
        event_type=envelope.type,
        summary=summary[:500],
        organisation=organisation,
        directory_service_id=directory_service_id,
    )


def words(code: str) -> str:
    return code.replace("_", " ").replace("-", " ")
