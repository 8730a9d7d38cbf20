"""The broker protocol: what the outbox relay, the consumers and the CLI need of a
Kafka-protocol broker. ``KafkaBroker`` (aiokafka) and ``InMemoryBroker`` both implement it,
and one contract suite runs on both."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: str
    value: bytes
    headers: Sequence[tuple[str, bytes]] = ()


@dataclass(frozen=True)
class IncomingMessage:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: Sequence[tuple[str, bytes]] = field(default_factory=tuple)
    timestamp_ms: int = 0

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v.decode("utf-8", "replace")
        return None


class BrokerUnavailable(ConnectionError):
    """The broker could not be reached or refused the request; retry later."""


class Publisher(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ensure_topics(self, topics: Iterable[str]) -> None: ...
    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send in order and return once every message is acknowledged by all replicas."""
        ...

    async def ping(self) -> None:
        """Raise BrokerUnavailable when the broker cannot be reached."""
        ...


class Subscriber(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def poll(self, timeout_ms: int, max_records: int) -> list[IncomingMessage]: ...
    async def commit(self, messages: Sequence[IncomingMessage]) -> None:
        """Commit the group's position past each message's partition offset."""
        ...

    def lag(self) -> dict[tuple[str, int], int]: ...


class Broker(Protocol):
    def publisher(self) -> Publisher: ...
    def subscriber(self, group: str, topics: Sequence[str]) -> Subscriber: ...
    async def read_all(self, topic: str) -> list[IncomingMessage]:
        """Every message currently in ``topic``, from the beginning (no consumer group)."""
        ...

    async def committed_position(self, group: str, topic: str) -> dict[int, int]:
        """The group's committed offset per partition (partitions with none are left out)."""
        ...

    async def commit_position(self, group: str, topic: str, offsets: dict[int, int]) -> None: ...
