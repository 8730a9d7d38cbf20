"""Reads of the MDT view."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carethread.db.tables import InboxRow
from mdt.store.tables import CaseloadReferralRow, SourceFreshnessRow, TimelineEntryRow

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


async def caseload(
    session: AsyncSession, neighbourhood: str, *, limit: int, offset: int
) -> tuple[int, list[CaseloadReferralRow]]:
    where = CaseloadReferralRow.neighbourhood == neighbourhood
    total = await session.scalar(select(func.count()).select_from(CaseloadReferralRow).where(where))
    rows = await session.scalars(
        select(CaseloadReferralRow)
        .where(where)
        .order_by(CaseloadReferralRow.received_at, CaseloadReferralRow.referral_id)
        .limit(limit)
        .offset(offset)
    )
    return total or 0, list(rows.all())


async def timeline(session: AsyncSession, person_id: uuid.UUID) -> list[TimelineEntryRow]:
    rows = await session.scalars(
        select(TimelineEntryRow)
        .where(TimelineEntryRow.person_id == person_id)
        .order_by(TimelineEntryRow.occurred_at, TimelineEntryRow.event_id)
    )
    return list(rows.all())
