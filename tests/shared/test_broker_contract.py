"""One contract for every broker adapter: the in-memory one and the Kafka one on Tansu."""

from __future__ import annotations

import asyncio

from carethread.messaging import Broker, IncomingMessage, OutgoingMessage


async def drain(subscriber: object, want: int, timeout: float = 20) -> list[IncomingMessage]:
    got: list[IncomingMessage] = []
    async with asyncio.timeout(timeout):
        while len(got) < want:
            got += await subscriber.poll(200, 500)  # type: ignore[attr-defined]
    return got


async def test_per_key_order_and_resume_after_commit(broker: Broker, topic_prefix: str) -> None:
    topic = topic_prefix + "contract"
    publisher = broker.publisher()
    await publisher.start()
    await publisher.ensure_topics([topic])
    await publisher.send_batch(
        [
            OutgoingMessage(topic, f"person-{i % 3}", f"{i}".encode(), [("h", b"v")])
            for i in range(30)
        ]
    )
    sub = broker.subscriber("g1", [topic])
    await sub.start()
    got = await drain(sub, 30)
    assert len(got) == 30
    for key in ("person-0", "person-1", "person-2"):
        values = [int(m.value) for m in got if m.key == key]
        assert values == sorted(values), f"order lost for {key}"
    assert all(m.header("h") == "v" for m in got)
    await sub.commit(got[:30])
    await sub.stop()

    await publisher.send_batch([OutgoingMessage(topic, "person-0", b"30")])
    again = broker.subscriber("g1", [topic])
    await again.start()
    resumed = await drain(again, 1)
    assert [m.value for m in resumed] == [b"30"], "a committed message was delivered again"
    await again.stop()
    await publisher.stop()


async def test_read_all_and_group_positions(broker: Broker, topic_prefix: str) -> None:
    topic = topic_prefix + "positions"
    publisher = broker.publisher()
    await publisher.start()
    await publisher.ensure_topics([topic])
    await publisher.send_batch([OutgoingMessage(topic, "k", str(i).encode()) for i in range(5)])
    await publisher.stop()
    everything = await broker.read_all(topic)
    assert [m.value for m in everything] == [str(i).encode() for i in range(5)]
    partition = everything[0].partition
    assert await broker.committed_position("readers", topic) == {}
    await broker.commit_position("readers", topic, {partition: 3})
    assert await broker.committed_position("readers", topic) == {partition: 3}
