"""The aiokafka adapter: the broker protocol on Apache Kafka or Tansu.

Idempotent and transactional producers are off on purpose: Tansu refuses them, and the
outbox + inbox design gives exactly-once *effects* without broker transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.structs import OffsetAndMetadata

from carethread.messaging.broker import BrokerUnavailable, IncomingMessage, OutgoingMessage
from carethread.settings import KafkaSettings

_TOPIC_ALREADY_EXISTS = TopicAlreadyExistsError.errno


def _incoming(record: object) -> IncomingMessage:
    key = getattr(record, "key", None)
    return IncomingMessage(
        topic=record.topic,  # type: ignore[attr-defined]
        partition=record.partition,  # type: ignore[attr-defined]
        offset=record.offset,  # type: ignore[attr-defined]
        key=key.decode() if isinstance(key, bytes) else None,
        value=record.value or b"",  # type: ignore[attr-defined]
        headers=tuple(record.headers or ()),  # type: ignore[attr-defined]
        timestamp_ms=record.timestamp or 0,  # type: ignore[attr-defined]
    )


class KafkaBroker:
    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings

    def publisher(self) -> KafkaPublisher:
        return KafkaPublisher(self.settings)

    def subscriber(self, group: str, topics: Sequence[str]) -> KafkaSubscriber:
        return KafkaSubscriber(self.settings, group, topics)

    def _consumer(self, group: str | None = None) -> AIOKafkaConsumer:
        s = self.settings
        return AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap_servers,
            group_id=group,
            client_id=s.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=s.fetch_max_wait_ms,
            request_timeout_ms=s.request_timeout_ms,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            # Co-partitioned topics: every service keys a person's events by the person's id,
            # topics have the same number of partitions and one partitioner, so a person's
            # events sit in the same partition number of every topic. The range assignor
            # deals each topic's partitions alike, so a consumer that gets partition 1 of
            # one topic gets partition 1 of all, and with them all of those people's events
            # (round robin, aiokafka's default, deals them across the topics instead, so two
            # members of a read model's group would apply one person's events at once).
            partition_assignment_strategy=(RangePartitionAssignor,),
        )

    async def _partitions(self, consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
        for _ in range(50):
            partitions = consumer.partitions_for_topic(topic)
            if partitions:
                return [TopicPartition(topic, p) for p in sorted(partitions)]
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)
        return []

    async def read_all(self, topic: str) -> list[IncomingMessage]:
        consumer = self._consumer()
        try:
            await consumer.start()
        except KafkaError as e:
            raise BrokerUnavailable(str(e)) from e
        try:
            tps = await self._partitions(consumer, topic)
            if not tps:
                return []
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            # Tansu reports a partition's end as the last *batch's* base offset + 1, so
            # the end offsets are only a lower bound: read past them until a fetch is empty.
            end = await consumer.end_offsets(tps)
            out: list[IncomingMessage] = []
            while True:
                batch = await consumer.getmany(*tps, timeout_ms=300)
                for records in batch.values():
                    out.extend(_incoming(r) for r in records)
                if not batch and await self._reached(consumer, end):
                    break
            return sorted(out, key=lambda m: (m.partition, m.offset))
        finally:
            await consumer.stop()

    @staticmethod
    async def _reached(consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
        for tp, offset in end.items():
            if await consumer.position(tp) < offset:
                return False
        return True

    async def committed_position(self, group: str, topic: str) -> dict[int, int]:
        consumer = self._consumer(group)
        await consumer.start()
        try:
            result: dict[int, int] = {}
            for tp in await self._partitions(consumer, topic):
                offset = await consumer.committed(tp)
                if offset is not None:
                    result[tp.partition] = offset
            return result
        finally:
            await consumer.stop()

    async def commit_position(self, group: str, topic: str, offsets: dict[int, int]) -> None:
        consumer = self._consumer(group)
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in offsets]
            consumer.assign(tps)
            await consumer.commit({TopicPartition(topic, p): o for p, o in offsets.items()})
        finally:
            await consumer.stop()


class KafkaPublisher:
    def __init__(self, settings: KafkaSettings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        s = self._settings
        producer = AIOKafkaProducer(
            bootstrap_servers=s.bootstrap_servers,
            client_id=s.client_id,
            acks="all",
            enable_idempotence=False,
            request_timeout_ms=s.request_timeout_ms,
            linger_ms=2,
        )
        try:
            await producer.start()
        except KafkaError as e:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise BrokerUnavailable(f"cannot reach the broker at {s.bootstrap_servers}: {e}") from e
        except asyncio.CancelledError:  # stopped while connecting: close what was opened
            with contextlib.suppress(Exception):
                await asyncio.shield(producer.stop())
            raise
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            with contextlib.suppress(Exception):
                await producer.stop()

    def _require(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise BrokerUnavailable("the producer is not connected")
        return self._producer

    async def ensure_topics(self, topics: Iterable[str]) -> None:
        s = self._settings
        admin = AIOKafkaAdminClient(
            bootstrap_servers=s.bootstrap_servers, request_timeout_ms=s.request_timeout_ms
        )
        try:
            await admin.start()
            wanted = [NewTopic(t, s.partitions, s.replication_factor) for t in sorted(set(topics))]
            response = await admin.create_topics(wanted)
            for topic, code, message in response.topic_errors:
                if code not in (0, _TOPIC_ALREADY_EXISTS):
                    raise BrokerUnavailable(f"cannot create topic {topic}: {message} ({code})")
        except KafkaError as e:
            raise BrokerUnavailable(f"cannot create topics: {e}") from e
        finally:
            with contextlib.suppress(Exception):
                await admin.close()

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        producer = self._require()
        try:
            futures = [
                await producer.send(m.topic, m.value, key=m.key.encode(), headers=list(m.headers))
                for m in messages
            ]
            await asyncio.gather(*futures)
        except KafkaError as e:
            raise BrokerUnavailable(f"publish failed: {e!r}") from e

    async def ping(self) -> None:
        producer = self._require()
        try:
            await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout=3)
        except (KafkaError, TimeoutError) as e:
            raise BrokerUnavailable(f"broker unreachable: {e!r}") from e


class KafkaSubscriber:
    def __init__(self, settings: KafkaSettings, group: str, topics: Sequence[str]) -> None:
        self._settings = settings
        self._group = group
        self._topics = list(topics)
        self._consumer: AIOKafkaConsumer | None = None
        self._consumed: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        consumer = KafkaBroker(self._settings)._consumer(self._group)
        consumer.subscribe(self._topics)
        try:
            await consumer.start()
        except KafkaError as e:
            with contextlib.suppress(Exception):
                await consumer.stop()
            raise BrokerUnavailable(f"cannot start consumer {self._group}: {e}") from e
        except asyncio.CancelledError:  # stopped while joining the group
            with contextlib.suppress(Exception):
                await asyncio.shield(consumer.stop())
            raise
        self._consumer = consumer

    async def stop(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            with contextlib.suppress(Exception):
                await consumer.stop()

    def assigned(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this member of its group holds now."""
        if self._consumer is None:
            return set()
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def _require(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise BrokerUnavailable("the consumer is not connected")
        return self._consumer

    async def poll(self, timeout_ms: int, max_records: int) -> list[IncomingMessage]:
        consumer = self._require()
        try:
            batch = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        except KafkaError as e:
            raise BrokerUnavailable(f"poll failed: {e!r}") from e
        out: list[IncomingMessage] = []
        for tp, records in batch.items():
            out.extend(_incoming(r) for r in records)
            if records:
                self._consumed[tp] = records[-1].offset + 1
        return out

    async def commit(self, messages: Sequence[IncomingMessage]) -> None:
        consumer = self._require()
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for m in messages:
            tp = TopicPartition(m.topic, m.partition)
            if tp not in offsets or offsets[tp].offset < m.offset + 1:
                offsets[tp] = OffsetAndMetadata(m.offset + 1, "")
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as e:
            raise BrokerUnavailable(f"commit failed: {e!r}") from e

    def lag(self) -> dict[tuple[str, int], int]:
        consumer = self._require()
        result: dict[tuple[str, int], int] = {}
        for tp, position in self._consumed.items():
            high = consumer.highwater(tp)
            if high is not None:
                result[(tp.topic, tp.partition)] = max(high - position, 0)
        return result
