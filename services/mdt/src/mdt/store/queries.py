"""Reads of the MDT view besides the caseload: waiting for an event, freshness, timelines."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carethread.db.tables import InboxRow
from mdt.store.tables import DirectoryServiceRow, SourceFreshnessRow, TimelineEntryRow

CONSUMER = "mdt"


async def wait_for_event(
    sessions: async_sessionmaker[AsyncSession], event_id: uuid.UUID, wait_ms: int
) -> bool:
    """Wait (bounded) until the view has applied ``event_id``; say whether it has."""
    deadline = time.monotonic() + wait_ms / 1000
    while True:
        async with sessions() as session:
            applied = await session.scalar(
                select(InboxRow.event_id).where(
                    InboxRow.consumer == CONSUMER, InboxRow.event_id == event_id
                )
            )
            await session.rollback()
        if applied is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)


async def freshness(session: AsyncSession) -> list[SourceFreshnessRow]:
    return list((await session.scalars(select(SourceFreshnessRow))).all())


async def timeline(
    session: AsyncSession, person_id: uuid.UUID
) -> list[tuple[TimelineEntryRow, str | None]]:
    """The person's entries in time order, each with the current name of the directory
    service it is about (if any, and once its listing has been seen)."""
    rows = await session.execute(
        select(TimelineEntryRow, DirectoryServiceRow.name)
        .outerjoin(
            DirectoryServiceRow,
            DirectoryServiceRow.service_id == TimelineEntryRow.directory_service_id,
        )
        .where(TimelineEntryRow.person_id == person_id)
        .order_by(TimelineEntryRow.occurred_at, TimelineEntryRow.event_id)
    )
    return [(entry, name or None) for entry, name in rows]
