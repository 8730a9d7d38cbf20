"""Reads for the live stream: a neighbourhood's change counter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mdt.store.tables import NeighbourhoodChangeRow


async def neighbourhood_version(
    sessions: async_sessionmaker[AsyncSession], neighbourhood: str
) -> tuple[int, datetime | None]:
    """The counter as committed now, and when it last moved (0 and None if never). A short
    session of its own each time: a stream lives long."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(NeighbourhoodChangeRow.version, NeighbourhoodChangeRow.changed_at).where(
                    NeighbourhoodChangeRow.neighbourhood == neighbourhood
                )
            )
        ).first()
        await session.rollback()
    return (row[0], row[1]) if row else (0, None)
