"""Idempotent consumers, poison messages and the DLQ, on both databases and brokers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carethread.db import UnitOfWork
from carethread.events import CloudEvent, Event
from carethread.messaging import (
    Broker,
    EventConsumer,
    EventRouter,
    IncomingMessage,
    OutgoingMessage,
)
from carethread.messaging.dlq import list_dead_letters, redrive
from carethread.observability.metrics import ServiceMetrics
from tests.shared.support import (
    TOPIC,
    EffectRow,
    Switch,
    ThingCountedV1,
    database,
    effects,
    make_router,
    registry,
    thing,
)


def as_message(event: CloudEvent, offset: int = 0) -> IncomingMessage:
    return IncomingMessage(
        TOPIC, 0, offset, event.subject, event.to_json_bytes(), (("ce_type", event.type.encode()),)
    )


def consumer_for(
    sessions: async_sessionmaker[AsyncSession], broker: Broker, prefix: str, switch: Switch
) -> EventConsumer:
    return EventConsumer(
        name="tests",
        router=make_router(switch),
        sessions=sessions,
        broker=broker,
        topic_prefix=prefix,
        metrics=ServiceMetrics("tests"),
        retry_backoff=0.01,
        poll_timeout_ms=200,
    )


@asynccontextmanager
async def consuming(consumer: EventConsumer) -> AsyncIterator[EventConsumer]:
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def publish(
    broker: Broker, prefix: str, events: list[CloudEvent], headers: bool = True
) -> None:
    p = broker.publisher()
    await p.start()
    await p.ensure_topics([prefix + TOPIC])
    await p.send_batch(
        [
            OutgoingMessage(
                prefix + TOPIC,
                e.subject,
                e.to_json_bytes(),
                [("ce_type", e.type.encode()), ("ce_id", str(e.id).encode())] if headers else [],
            )
            for e in events
        ]
    )
    await p.stop()


async def until(condition: object, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_the_same_event_twice_is_applied_once(
    database_url: str, broker: Broker, topic_prefix: str
) -> None:
    async with database(database_url) as (_, sessions):
        consumer = consumer_for(sessions, broker, topic_prefix, Switch())
        first, second = thing("p", 1), thing("p", 2)
        # Delivered twice by the broker (a relay retry), then once more directly.
        await publish(broker, topic_prefix, [first, first, second, first])
        async with consuming(consumer):

            async def two_applied() -> bool:
                return len(await effects(sessions)) >= 2 and consumer.applied >= 2

            await until(two_applied)
            await asyncio.sleep(0.5)  # let any stray repeat arrive
        await consumer.handle(as_message(first, 99))
        assert await effects(sessions) == [("p", 1), ("p", 2)]


async def test_poison_goes_to_dlq_consumer_moves_on_and_redrive_applies_it(
    database_url: str, broker: Broker, topic_prefix: str
) -> None:
    async with database(database_url) as (_, sessions):
        switch = Switch()
        consumer = consumer_for(sessions, broker, topic_prefix, switch)
        poison = thing("p", 2, fail=True)
        await publish(broker, topic_prefix, [thing("p", 1), poison, thing("p", 3)])
        async with consuming(consumer):

            async def two_applied() -> bool:
                return len(await effects(sessions)) == 2

            await until(two_applied)

            async def dead_lettered() -> bool:
                return len(await list_dead_letters(broker, topic_prefix)) == 1

            await until(dead_lettered)
            [letter] = await list_dead_letters(broker, topic_prefix)
            assert letter.consumer == "tests"
            assert letter.event_id == str(poison.id)
            assert "cannot count thing 2" in letter.error
            assert letter.attempts == 3
            assert not letter.redriven
            # The failed attempts left no effect behind: nothing half-written.
            assert await effects(sessions) == [("p", 1), ("p", 3)]

            switch.failing = False  # the bug is fixed
            assert [d.event_id for d in await redrive(broker, topic_prefix)] == [str(poison.id)]

            async def three_applied() -> bool:
                return len(await effects(sessions)) == 3

            await until(three_applied)
        assert sorted(await effects(sessions)) == [("p", 1), ("p", 2), ("p", 3)]
        assert [d.redriven for d in await list_dead_letters(broker, topic_prefix)] == [True]
        assert await redrive(broker, topic_prefix) == []  # re-driven once only


async def test_an_unreadable_message_is_dead_lettered(
    database_url: str, broker: Broker, topic_prefix: str
) -> None:
    async with database(database_url) as (_, sessions):
        consumer = consumer_for(sessions, broker, topic_prefix, Switch())
        p = broker.publisher()
        await p.start()
        await p.ensure_topics([topic_prefix + TOPIC])
        await p.send_batch([OutgoingMessage(topic_prefix + TOPIC, "k", b"{not json")])
        await p.stop()
        await publish(broker, topic_prefix, [thing("p", 1)])
        async with consuming(consumer):

            async def settled() -> bool:
                return (
                    len(await effects(sessions)) == 1
                    and len(await list_dead_letters(broker, topic_prefix)) == 1
                )

            await until(settled)
        [letter] = await list_dead_letters(broker, topic_prefix)
        assert "unreadable envelope" in letter.error


def clashing_router() -> EventRouter:
    """The effects of events n=1 and n=2 take the same primary key: the clash surfaces
    when the rows are written, not in either handler."""
    router = EventRouter(registry)

    @router.on(ThingCountedV1)
    async def on_thing(event: Event[ThingCountedV1], uow: UnitOfWork) -> None:
        row = EffectRow(event_id=event.id, person=event.data.person, n=event.data.n)
        if event.data.n in (1, 2):
            row.id = 1_000_000
        uow.session.add(row)

    return router


async def test_a_batch_that_cannot_commit_is_applied_one_by_one(
    database_url: str, broker: Broker, topic_prefix: str
) -> None:
    async with database(database_url) as (_, sessions):
        consumer = EventConsumer(
            name="tests",
            router=clashing_router(),
            sessions=sessions,
            broker=broker,
            topic_prefix=topic_prefix,
            metrics=ServiceMetrics("tests"),
            retry_backoff=0.01,
            poll_timeout_ms=200,
        )
        clash = thing("p", 2)
        await publish(broker, topic_prefix, [thing("p", 1), clash, thing("p", 3)])
        async with consuming(consumer):

            async def settled() -> bool:
                return (
                    len(await effects(sessions)) == 2
                    and len(await list_dead_letters(broker, topic_prefix)) == 1
                )

            await until(settled)
        assert sorted(await effects(sessions)) == [("p", 1), ("p", 3)]
        [letter] = await list_dead_letters(broker, topic_prefix)
        assert letter.event_id == str(clash.id)
        assert letter.attempts == 3
        assert consumer.applied == 2
