"""An in-memory broker with the same protocol as the Kafka adapter, for fast unit tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence

from carethread.messaging.broker import BrokerUnavailable, IncomingMessage, OutgoingMessage


class InMemoryBroker:
    """Topics of ``partitions`` partitions; keys are hashed to partitions so per-key order
    holds as on Kafka. A consumer group has one member here (no rebalancing)."""

    def __init__(self, partitions: int = 3) -> None:
        self.partitions = partitions
        self._logs: dict[str, list[list[IncomingMessage]]] = {}
        self._committed: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
        self._arrived = asyncio.Condition()
        self.available = True

    def _log(self, topic: str) -> list[list[IncomingMessage]]:
        if topic not in self._logs:
            self._logs[topic] = [[] for _ in range(self.partitions)]
        return self._logs[topic]

    def _check(self) -> None:
        if not self.available:
            raise BrokerUnavailable("in-memory broker made unavailable")

    async def append(self, messages: Sequence[OutgoingMessage]) -> None:
        self._check()
        for m in messages:
            log = self._log(m.topic)
            partition = zlib.crc32(m.key.encode()) % self.partitions
            log[partition].append(
                IncomingMessage(
                    topic=m.topic,
                    partition=partition,
                    offset=len(log[partition]),
                    key=m.key,
                    value=m.value,
                    headers=tuple(m.headers),
                    timestamp_ms=int(time.time() * 1000),
                )
            )
        async with self._arrived:
            self._arrived.notify_all()

    async def wait_for_messages(self, timeout_ms: int) -> None:
        async with self._arrived:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_ms / 1000):
                    await self._arrived.wait()

    def topic_log(self, topic: str) -> list[list[IncomingMessage]]:
        return self._log(topic)

    def committed(self, group: str, topic: str) -> dict[int, int]:
        return self._committed[(group, topic)]

    # Broker protocol
    def publisher(self) -> InMemoryPublisher:
        return InMemoryPublisher(self)

    def subscriber(self, group: str, topics: Sequence[str]) -> InMemorySubscriber:
        return InMemorySubscriber(self, group, topics)

    async def read_all(self, topic: str) -> list[IncomingMessage]:
        self._check()
        return [m for partition in self._log(topic) for m in partition]

    async def committed_position(self, group: str, topic: str) -> dict[int, int]:
        return dict(self._committed[(group, topic)])

    async def commit_position(self, group: str, topic: str, offsets: dict[int, int]) -> None:
        self._committed[(group, topic)].update(offsets)


class InMemoryPublisher:
    def __init__(self, broker: InMemoryBroker) -> None:
        self._broker = broker

    async def start(self) -> None:
        self._broker._check()

    async def stop(self) -> None:
        return None

    async def ensure_topics(self, topics: Iterable[str]) -> None:
        for t in topics:
            self._broker._log(t)

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        await self._broker.append(messages)

    async def ping(self) -> None:
        self._broker._check()


class InMemorySubscriber:
    def __init__(self, broker: InMemoryBroker, group: str, topics: Sequence[str]) -> None:
        self._broker = broker
        self._group = group
        self._topics = list(topics)
        self._positions: dict[tuple[str, int], int] = {}

    async def start(self) -> None:
        self._broker._check()
        for topic in self._topics:
            committed = self._broker.committed(self._group, topic)
            for p in range(self._broker.partitions):
                self._positions[(topic, p)] = committed.get(p, 0)

    async def stop(self) -> None:
        self._positions.clear()

    def _ready(self, max_records: int) -> list[IncomingMessage]:
        out: list[IncomingMessage] = []
        for (topic, p), pos in self._positions.items():
            log = self._broker.topic_log(topic)[p]
            batch = log[pos : pos + max_records - len(out)]
            out.extend(batch)
            self._positions[(topic, p)] = pos + len(batch)
            if len(out) >= max_records:
                break
        return out

    async def poll(self, timeout_ms: int, max_records: int) -> list[IncomingMessage]:
        self._broker._check()
        ready = self._ready(max_records)
        if not ready:
            await self._broker.wait_for_messages(timeout_ms)
            ready = self._ready(max_records)
        return ready

    async def commit(self, messages: Sequence[IncomingMessage]) -> None:
        self._broker._check()
        for m in messages:
            committed = self._broker.committed(self._group, m.topic)
            committed[m.partition] = max(committed.get(m.partition, 0), m.offset + 1)

    def lag(self) -> dict[tuple[str, int], int]:
        return {
            (t, p): len(self._broker.topic_log(t)[p]) - pos
            for (t, p), pos in self._positions.items()
        }
