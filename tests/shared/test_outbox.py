"""The transactional outbox and its relay, on SQLite and PostgreSQL, over both brokers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from carethread.db import UnitOfWork
from carethread.db.tables import OutboxRow
from carethread.events import CloudEvent
from carethread.messaging import Broker, InMemoryBroker, OutboxRelay, add_to_outbox, replay
from carethread.observability.metrics import ServiceMetrics
from tests.shared.support import TOPIC, database, thing, write_things


def relay_for(engine: object, sessions: object, broker: Broker, prefix: str) -> OutboxRelay:
    return OutboxRelay(
        service="tests", engine=engine, sessions=sessions, publisher=broker.publisher(),  # type: ignore[arg-type]
        topics=[TOPIC], topic_prefix=prefix, metrics=ServiceMetrics("tests"),
    )


async def publish_all(relay: OutboxRelay, broker: Broker) -> None:
    publisher = relay._publisher
    await publisher.start()
    await publisher.ensure_topics(relay._topics)
    while await relay.publish_pending():
        pass
    await publisher.stop()


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
        assert sorted(values(await broker.read_all(topic_prefix + TOPIC))) == [("fast", 2), ("slow", 1)]


@pytest.mark.postgres
async def test_only_one_relay_is_active_on_postgres(postgres_url: str, topic_prefix: str) -> None:
    async with database(postgres_url) as (engine, sessions):
        broker = InMemoryBroker()
        first = relay_for(engine, sessions, broker, topic_prefix)
        second = relay_for(engine, sessions, broker, topic_prefix)
        tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
        try:
            async with asyncio.timeout(10):
                while not ((first.connected and second.standby) or (second.connected and first.standby)):
                    await asyncio.sleep(0.05)
            await write_things(sessions, [thing("p", i) for i in range(5)])
            async with asyncio.timeout(10):
                while len(await broker.read_all(topic_prefix + TOPIC)) < 5:
                    await asyncio.sleep(0.05)
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
            assert [n for _, n in values(await broker.read_all(topic_prefix + TOPIC))] == list(range(6))
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
