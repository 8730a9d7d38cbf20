"""The MDT view without HTTP or a broker: its migrated database, its real handlers and the
consumer's inbox, fed messages the way the broker would hand them over."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carethread.db import create_engine, migrate, session_factory
from carethread.events import CloudEvent
from carethread.messaging import EventConsumer, IncomingMessage, InMemoryBroker
from carethread.observability.metrics import ServiceMetrics
from mdt.app import DEFINITION
from mdt.handlers import router
from mdt.store.tables import MdtBase
from tests.mdt.history import topic_of

# Columns that say when the view applied something, not what it holds.
WHEN_APPLIED = {"applied_at"}
# The live stream's change counters count changes as applied: bookkeeping, not the view.
NOT_THE_VIEW = {"neighbourhood_change"}


def message(event: CloudEvent, offset: int = 0) -> IncomingMessage:
    return IncomingMessage(
        topic_of(event),
        0,
        offset,
        event.personid or event.subject,
        event.to_json_bytes(),
        (("ce_type", event.type.encode()),),
    )


@dataclass
class View:
    sessions: async_sessionmaker[AsyncSession]
    consumer: EventConsumer

    async def apply(self, events: Sequence[CloudEvent], *, batch: int = 50) -> None:
        """Hand ``events`` to the consumer in polls of ``batch``, as the broker would."""
        for start in range(0, len(events), batch):
            chunk = events[start : start + batch]
            await self.consumer.handle_batch([message(e, start + i) for i, e in enumerate(chunk)])

    async def contents(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table of the view, rows sorted, without the times things were applied."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        async with self.sessions() as session:
            for table in MdtBase.metadata.sorted_tables:
                if table.name in NOT_THE_VIEW:
                    continue
                columns = [c for c in table.columns if c.name not in WHEN_APPLIED]
                rows = (await session.execute(select(*columns))).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
        return out


@asynccontextmanager
async def view(url: str) -> AsyncIterator[View]:
    engine = create_engine(url)
    await migrate(engine, DEFINITION.migrations)
    sessions = session_factory(engine)
    consumer = EventConsumer(
        name="mdt",
        router=router,
        sessions=sessions,
        broker=InMemoryBroker(),
        topic_prefix="",
        metrics=ServiceMetrics("mdt"),
        retry_backoff=0.0,
    )
    try:
        yield View(sessions, consumer)
    finally:
        await engine.dispose()
