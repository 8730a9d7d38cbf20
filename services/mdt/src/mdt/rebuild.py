"""Drop the MDT view and build it again from the producing services' event logs.

Every service keeps its outbox as its event log. Two ways back to a full view:

- through the broker: ``python -m mdt.rebuild --drop-only`` empties the view and the
  view's inbox, then ``carethread replay`` republishes each service's outbox and the
  running consumer applies it all again (the inbox is empty, so nothing is skipped);
- straight from the logs: ``python -m mdt.rebuild --from-outbox <database url>`` (once
  per producing service) reads each outbox in order and applies it through the same
  handlers and inbox, interleaving the services page by page, as topics would.

Either way the result equals the live view: the handlers make the view independent of
the order events come in."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Sequence

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carethread.db import UnitOfWork, create_engine, migrate, on_postgres, session_factory
from carethread.db.tables import InboxRow, OutboxRow
from carethread.messaging import EventConsumer, IncomingMessage, InMemoryBroker
from carethread.observability.metrics import ServiceMetrics
from mdt.app import DEFINITION
from mdt.handlers import router
from mdt.settings import MdtSettings
from mdt.store.queries import CONSUMER
from mdt.store.tables import MdtBase


async def drop_view(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Empty every table of the view and forget which events it applied, in one commit."""
    async with UnitOfWork(sessions) as uow:
        for table in reversed(MdtBase.metadata.sorted_tables):
            await uow.session.execute(delete(table))
        await uow.session.execute(delete(InboxRow).where(InboxRow.consumer == CONSUMER))
        await uow.commit()


async def analyse(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Refresh PostgreSQL's statistics of the view (nothing to do on SQLite). A view filled
    in minutes outgrows the statistics the planner last saw long before autovacuum comes
    round (if it is on at all); with an empty inbox on record, the poll's inbox lookup
    scans every event applied instead of looking its ids up."""
    async with sessions() as session:
        if not on_postgres(session):
            return
        await session.execute(text("ANALYZE"))
        await session.commit()


async def outbox_pages(url: str, *, page: int) -> AsyncIterator[list[IncomingMessage]]:
    """A service's outbox in its order, as the messages the broker would deliver."""
    engine = create_engine(url, reader=True)
    sessions = session_factory(engine)
    last = 0
    try:
        while True:
            async with sessions() as session:
                rows = (
                    await session.execute(
                        select(
                            OutboxRow.position,
                            OutboxRow.topic,
                            OutboxRow.key,
                            OutboxRow.payload,
                            OutboxRow.headers,
                        )
                        .where(OutboxRow.position > last)
                        .order_by(OutboxRow.position)
                        .limit(page)
                    )
                ).all()
                await session.rollback()
            if not rows:
                return
            last = rows[-1][0]
            yield [
                IncomingMessage(
                    topic,
                    0,
                    position,
                    key,
                    payload.encode(),
                    tuple((k, str(v).encode()) for k, v in (headers or {}).items()),
                )
                for position, topic, key, payload, headers in rows
            ]
    finally:
        await engine.dispose()


async def rebuild(
    sessions: async_sessionmaker[AsyncSession], outbox_urls: Sequence[str], *, page: int = 2_000
) -> int:
    """Drop the view, then apply every outbox again; return how many events were applied."""
    await drop_view(sessions)
    consumer = EventConsumer(
        name=CONSUMER,
        router=router,
        sessions=sessions,
        broker=InMemoryBroker(),  # never started: messages are handed over directly
        topic_prefix="",
        metrics=ServiceMetrics(CONSUMER),
    )
    readers = [outbox_pages(url, page=page) for url in outbox_urls]
    analysed_at = 0
    while readers:
        for reader in list(readers):
            batch = await anext(reader, None)
            if batch is None:
                readers.remove(reader)
                continue
            await consumer.handle_batch(batch)
            # Fresh statistics each time the view has doubled, whether autovacuum is on or not.
            if consumer.applied >= max(2 * analysed_at, 5_000):
                await analyse(sessions)
                analysed_at = consumer.applied
    return consumer.applied


async def _main(database_url: str, outboxes: list[str], drop_only: bool) -> None:
    engine = create_engine(database_url)
    await migrate(engine, DEFINITION.migrations)
    sessions = session_factory(engine)
    try:
        if drop_only:
            await drop_view(sessions)
            print("The MDT view is empty; replay the services' outboxes to fill it again.")
        else:
            applied = await rebuild(sessions, outboxes)
            print(f"Rebuilt the MDT view from {len(outboxes)} outboxes: {applied} events applied.")
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mdt.rebuild", description=__doc__)
    parser.add_argument("--from-outbox", action="append", default=[], metavar="DATABASE_URL")
    parser.add_argument("--drop-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.drop_only and not args.from_outbox:
        parser.error("give --from-outbox (once per producing service) or --drop-only")
    asyncio.run(_main(MdtSettings().database_url, args.from_outbox, args.drop_only))


if __name__ == "__main__":
    main()
