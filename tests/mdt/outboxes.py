"""The producing services' outboxes (their event logs), filled with a generated history in
each service's own order, as the services would have written them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from carethread.db import UnitOfWork, create_engine, migrate, session_factory
from carethread.events import CloudEvent
from carethread.messaging import add_to_outbox
from tests.mdt.history import TOPIC, topic_of

PAGE = 1_000


async def fill_outbox(url: str, events: Sequence[CloudEvent]) -> None:
    engine = create_engine(url)
    await migrate(engine, None)  # the platform's tables: outbox, inbox, audit
    sessions = session_factory(engine)
    for start in range(0, len(events), PAGE):
        async with UnitOfWork(sessions) as uow:
            for event in events[start : start + PAGE]:
                await add_to_outbox(
                    uow, event, topic=topic_of(event), key=event.personid or event.subject
                )
            await uow.commit()
    await engine.dispose()


@asynccontextmanager
async def outboxes(folder: Path, events: Sequence[CloudEvent]) -> AsyncIterator[list[str]]:
    """One SQLite outbox per producing service, holding that service's events in order."""
    urls = []
    for service in TOPIC:
        url = f"sqlite+aiosqlite:///{folder / service}-outbox.db"
        await fill_outbox(url, [e for e in events if e.source == f"carethread/{service}"])
        urls.append(url)
    yield urls
