"""The transactional outbox and its relay, on SQLite and PostgreSQL, over both brokers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from carethread.db import UnitOfWork, create_engine, session_factory
from carethread.db.tables import OutboxRow
from carethread.events import CloudEvent
from carethread.messaging import Broker, InMemoryBroker, OutboxRelay, add_to_outbox, replay
from carethread.messaging.broker import OutgoingMessage
from carethread.observability.metrics import ServiceMetrics
from tests.shared.support import TOPIC, database, thing, write_things


def relay_for(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    broker: Broker,
    prefix: str,
    poll_interval: float = 0.1,
    linger: float = 0.0,
) -> OutboxRelay:
    return OutboxRelay(
        service="tests",
        engine=engine,
        publisher=broker.publisher(),
        topics=[TOPIC],
        topic_prefix=prefix,
        metrics=ServiceMetrics("tests"),
        poll_interval=poll_interval,
        linger=linger,
    )


@asynccontextmanager
async def waiting_for_commits(relay: OutboxRelay) -> AsyncIterator[None]:
    """The relay running, connected, past the empty outbox and waiting for a commit."""
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(10):
            while not relay.connected:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until_published(broker: Broker, topic: str, count: int) -> None:
    async with asyncio.timeout(5):
        while len(await broker.read_all(topic)) < count:
            await asyncio.sleep(0.05)


async def publish_all(relay: OutboxRelay, broker: Broker) -> None:
    publisher = relay._publisher
    await publisher.start()
    await publisher.ensure_topics(relay._topics)
    while await relay.publish_pending():
        pass
    await publisher.stop()


async def unpublished(sessions: object) -> int:
    async with sessions() as s:  # type: ignore[operator]
        count: int | None = await s.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.published_at.is_(None))
        )
    return count or 0


def values(messages: Sequence[object]) -> list[tuple[str, int]]:
    out = []
    for m in messages:
        e = CloudEvent.from_json_bytes(m.value)  # type: ignore[attr-defined]
        out.append((e.data["person"], e.data["n"]))
    return out


async def test_relay_publishes_committed_events_in_order_and_marks_them(
    database_url: str, broker: Broker, topic_prefix: str
) -> None:
    async with database(database_url) as (engine, sessions):
        events = [thing(f"p{i % 4}", i) for i in range(40)]
        await write_things(sessions, events)
        async with UnitOfWork(sessions) as uow:  # rolled back: must never be published
            await add_to_outbox(uow, thing("ghost", 99), topic=TOPIC, key="ghost")
        relay = relay_for(engine, sessions, broker, topic_prefix)
        await publish_all(relay, broker)
        published = await broker.read_all(topic_prefix + TOPIC)
        got = values(published)
        assert sorted(got) == sorted((f"p{i % 4}", i) for i in range(40))
        for person in ("p0", "p1", "p2", "p3"):
            ns = [n for p, n in got if p == person]
            assert ns == sorted(ns)
        assert all(m.header("ce_type") == "carethread.thing.counted.v1" for m in published)
        async with sessions() as s:
            pending = await s.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.published_at.is_(None))
            )
        assert pending == 0


async def test_replay_refills_an_empty_topic_in_order(database_url: str, topic_prefix: str) -> None:
    async with database(database_url) as (engine, sessions):
        await write_things(sessions, [thing("p", i) for i in range(10)])
        first = InMemoryBroker()
        await publish_all(relay_for(engine, sessions, first, topic_prefix), first)
        fresh = InMemoryBroker()  # a broker that lost everything
        publisher = fresh.publisher()
        sent = await replay(sessions, publisher, topic_prefix=topic_prefix)
        assert sent == 10
        assert values(await fresh.read_all(topic_prefix + TOPIC)) == values(
            await first.read_all(topic_prefix + TOPIC)
        )


@pytest.mark.postgres
async def test_late_committing_row_is_not_skipped_on_postgres(
    postgres_url: str, topic_prefix: str
) -> None:
    """The polling trap: a row whose position was taken first but committed last.
    (SQLite serialises writers, so there positions are always taken in commit order.)"""
    async with database(postgres_url) as (engine, sessions):
        broker = InMemoryBroker()
        relay = relay_for(engine, sessions, broker, topic_prefix)
        slow = UnitOfWork(sessions)
        await slow.__aenter__()
        await add_to_outbox(slow, thing("slow", 1), topic=TOPIC, key="slow")
        await slow.session.flush()  # position taken now
        await write_things(sessions, [thing("fast", 2)])  # takes a later position, commits first
        await publish_all(relay, broker)
        assert values(await broker.read_all(topic_prefix + TOPIC)) == [("fast", 2)]
        await slow.commit()
        await slow.__aexit__(None, None, None)
        await publish_all(relay, broker)
        assert sorted(values(await broker.read_all(topic_prefix + TOPIC))) == [
            ("fast", 2),
            ("slow", 1),
        ]


@pytest.mark.postgres
async def test_writers_for_one_key_take_positions_in_commit_order_on_postgres(
    postgres_url: str,
) -> None:
    """The per-key lock is taken when the outbox row is flushed and held to commit: a
    second writer for the same key waits, so its row gets the later position."""
    async with database(postgres_url) as (_, sessions):
        first = UnitOfWork(sessions)
        await first.__aenter__()
        await add_to_outbox(first, thing("p", 1), topic=TOPIC, key="p")
        await add_to_outbox(first, thing("q", 1), topic=TOPIC, key="q")
        await first.session.flush()  # locks p and q, then takes positions

        async def second_writer(key: str, n: int) -> None:
            await write_things(sessions, [thing(key, n)])

        blocked = asyncio.create_task(second_writer("p", 2))
        other = asyncio.create_task(second_writer("r", 3))
        await asyncio.wait_for(other, 10)  # another key is not held up
        await asyncio.sleep(0.3)
        assert not blocked.done()  # same key: waits for the first writer's commit
        await first.commit()
        await first.__aexit__(None, None, None)
        await asyncio.wait_for(blocked, 10)
        async with sessions() as s:
            rows = (await s.scalars(select(OutboxRow).order_by(OutboxRow.position))).all()
        order = [(r.key, CloudEvent.model_validate_json(r.payload).data["n"]) for r in rows]
        assert order.index(("p", 1)) < order.index(("p", 2))
        assert order[-1] == ("p", 2)


@pytest.mark.postgres
async def test_only_one_relay_is_active_on_postgres(postgres_url: str, topic_prefix: str) -> None:
    async with database(postgres_url) as (engine, sessions):
        broker = InMemoryBroker()
        first = relay_for(engine, sessions, broker, topic_prefix)
        second = relay_for(engine, sessions, broker, topic_prefix)
        tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
        try:
            async with asyncio.timeout(10):
                while not (
                    (first.connected and second.standby) or (second.connected and first.standby)
                ):
                    await asyncio.sleep(0.05)
            await write_things(sessions, [thing("p", i) for i in range(5)])
            async with asyncio.timeout(10):
                while await unpublished(sessions):
                    await asyncio.sleep(0.05)
            # Killed between send and mark, a relay leaves duplicates for its successor
            # (at-least-once; consumers de-duplicate); this test kills it between batches.
            active = first if first.connected else second
            tasks[[first, second].index(active)].cancel()  # the active replica dies
            standby = second if active is first else first
            async with asyncio.timeout(10):
                while not standby.connected:
                    await asyncio.sleep(0.05)
            await write_things(sessions, [thing("p", 5)])
            async with asyncio.timeout(10):
                while len(await broker.read_all(topic_prefix + TOPIC)) < 6:
                    await asyncio.sleep(0.05)
            assert [n for _, n in values(await broker.read_all(topic_prefix + TOPIC))] == list(
                range(6)
            )
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.postgres
async def test_a_commit_in_another_process_wakes_the_relay_on_postgres(
    postgres_url: str, topic_prefix: str
) -> None:
    """Server workers and replicas share one active relay: its LISTEN hears their commits,
    so their events do not wait for its poll (here far longer than the test allows)."""
    async with database(postgres_url) as (engine, sessions):
        broker = InMemoryBroker()
        relay = relay_for(engine, sessions, broker, topic_prefix, poll_interval=60.0)
        async with waiting_for_commits(relay):
            # Another worker: its own engine, and no way to call this relay's notify().
            other = create_engine(postgres_url)
            try:
                await write_things(session_factory(other), [thing("p", 1), thing("p", 2)])
            finally:
                await other.dispose()
            await until_published(broker, topic_prefix + TOPIC, 2)


@pytest.mark.postgres
async def test_a_stream_of_commits_goes_out_in_few_batches_with_linger_on_postgres(
    postgres_url: str, topic_prefix: str
) -> None:
    """Commits arriving one after another are published together, a cycle no sooner than
    the linger after the one before (not one broker request and one outbox statement per
    commit), and none is lost or reordered."""
    async with database(postgres_url) as (engine, sessions):
        broker = InMemoryBroker()
        relay = relay_for(engine, sessions, broker, topic_prefix, poll_interval=60.0, linger=0.3)
        batches: list[int] = []
        send_batch = relay._publisher.send_batch

        async def counting(messages: Sequence[OutgoingMessage]) -> None:
            batches.append(len(messages))
            await send_batch(messages)

        relay._publisher.send_batch = counting  # type: ignore[method-assign]
        async with waiting_for_commits(relay):
            for n in range(1, 13):  # twelve commits in about 0.25 s
                await write_things(sessions, [thing("p", n)])
                await asyncio.sleep(0.02)
            await until_published(broker, topic_prefix + TOPIC, 12)
        published = await broker.read_all(topic_prefix + TOPIC)
        assert values(published) == [("p", n) for n in range(1, 13)]
        assert sum(batches) == 12
        assert len(batches) <= 3, batches  # without the linger: one per commit
