"""Idempotent consumers: each event's effect and its inbox row commit in one transaction,
and offsets are committed only after that. A message that keeps failing after bounded
retries goes to the dead-letter topic with its error, and the consumer moves on."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime

from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carethread.db.tables import InboxRow
from carethread.db.uow import UnitOfWork
from carethread.events.envelope import CloudEvent, Event
from carethread.events.topics import DLQ, prefixed
from carethread.messaging.broker import (
    Broker,
    BrokerUnavailable,
    IncomingMessage,
    OutgoingMessage,
    Publisher,
    Subscriber,
)
from carethread.messaging.router import EventRouter
from carethread.observability.logging import get_logger
from carethread.observability.metrics import ServiceMetrics
from carethread.observability.tracing import kafka_headers_to_dict, span_from_headers

log = get_logger(__name__)


class PoisonMessage(Exception):
    """The message can never be applied (unreadable envelope or data)."""


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        router: EventRouter,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        topic_prefix: str,
        metrics: ServiceMetrics,
        max_attempts: int = 3,
        retry_backoff: float = 0.1,
        poll_timeout_ms: int = 500,
        max_records: int = 500,
    ) -> None:
        self.name = name
        self._router = router
        self._sessions = sessions
        self._broker = broker
        self._prefix = topic_prefix
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._poll_timeout_ms = poll_timeout_ms
        self._max_records = max_records
        self._dlq_publisher: Publisher | None = None
        self.connected = False
        self.applied = 0

    @property
    def group(self) -> str:
        return f"{self._prefix}carethread.{self.name}"

    @property
    def topics(self) -> list[str]:
        return [prefixed(self._prefix, t) for t in self._router.topics]

    async def run(self) -> None:
        """Consume forever, reconnecting with backoff when the broker goes away."""
        backoff = 0.2
        while True:
            subscriber = self._broker.subscriber(self.group, self.topics)
            publisher = self._broker.publisher()
            try:
                await publisher.start()
                await publisher.ensure_topics([*self.topics, prefixed(self._prefix, DLQ)])
                await subscriber.start()
                self._dlq_publisher = publisher
                self.connected = True
                backoff = 0.2
                await self._consume(subscriber)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001  # a consumer must outlive any failure
                log.warning("consumer error; reconnecting", consumer=self.name, error=repr(e))
            finally:
                self.connected = False
                await asyncio.shield(self._close(subscriber, publisher))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _close(self, subscriber: Subscriber, publisher: Publisher) -> None:
        await subscriber.stop()
        await publisher.stop()

    async def _consume(self, subscriber: Subscriber) -> None:
        while True:
            messages = await subscriber.poll(self._poll_timeout_ms, self._max_records)
            for message in messages:
                await self.handle(message)
            if messages:
                await subscriber.commit(messages)
            for (topic, partition), lag in subscriber.lag().items():
                self._metrics.consumer_lag.labels(topic, str(partition)).set(lag)

    async def handle(self, message: IncomingMessage) -> None:
        """Apply one message exactly once, or dead-letter it after bounded retries."""
        headers = kafka_headers_to_dict(message.headers)
        with span_from_headers(f"consume {message.topic}", headers, kind=SpanKind.CONSUMER):
            try:
                envelope = CloudEvent.from_json_bytes(message.value)
            except ValidationError as e:
                await self._dead_letter(message, PoisonMessage(f"unreadable envelope: {e}"), 1)
                return
            route = self._router.route_for(envelope.type)
            if route is None:
                self._metrics.events_handled.labels(envelope.type, "ignored").inc()
                return
            attempt = 0
            while True:
                attempt += 1
                try:
                    outcome = await self._apply(envelope, route.model, route.handler)
                except PoisonMessage as e:
                    await self._dead_letter(message, e, attempt)
                    return
                except Exception as e:  # noqa: BLE001  # retried, then dead-lettered
                    if attempt >= self._max_attempts:
                        await self._dead_letter(message, e, attempt)
                        return
                    await asyncio.sleep(self._retry_backoff * 2 ** (attempt - 1))
                    continue
                self._metrics.events_handled.labels(envelope.type, outcome).inc()
                return

    async def _apply(self, envelope: CloudEvent, model: type, handler: object) -> str:
        try:
            data = model.model_validate(self._router.registry.upcast(envelope, model.event_type))
        except ValidationError as e:
            raise PoisonMessage(f"invalid data for {envelope.type}: {e}") from e
        async with UnitOfWork(self._sessions) as uow:
            seen = await uow.session.scalar(
                select(InboxRow.event_id).where(
                    InboxRow.consumer == self.name, InboxRow.event_id == envelope.id
                )
            )
            if seen is not None:
                return "duplicate"
            await handler(Event(envelope=envelope, data=data), uow)  # type: ignore[operator]
            uow.session.add(
                InboxRow(
                    consumer=self.name,
                    event_id=envelope.id,
                    event_type=envelope.type,
                    applied_at=datetime.now(UTC),
                )
            )
            try:
                await uow.commit()
            except IntegrityError:
                # Another delivery of the same event won the race: its effect stands.
                return "duplicate"
        self.applied += 1
        return "applied"

    async def _dead_letter(self, message: IncomingMessage, error: Exception, attempts: int) -> None:
        log.error(
            "event dead-lettered",
            consumer=self.name,
            topic=message.topic,
            offset=message.offset,
            error=repr(error),
        )
        if self._dlq_publisher is None:
            raise BrokerUnavailable("no DLQ publisher")
        detail = "".join(traceback.format_exception_only(error)).strip()
        dlq_headers = [
            ("dlq.consumer", self.name),
            ("dlq.original_topic", message.topic),
            ("dlq.original_partition", str(message.partition)),
            ("dlq.original_offset", str(message.offset)),
            ("dlq.error_type", type(error).__name__),
            ("dlq.error", detail[:2000]),
            ("dlq.attempts", str(attempts)),
            ("dlq.failed_at", datetime.now(UTC).isoformat()),
        ]
        headers = [(k, v) for k, v in message.headers if not k.startswith("dlq.")]
        headers += [(k, v.encode()) for k, v in dlq_headers]
        # Raises if the DLQ cannot be written: the offset is then not committed and the
        # message comes back, so a poison message is never silently dropped.
        await self._dlq_publisher.send_batch(
            [
                OutgoingMessage(
                    topic=prefixed(self._prefix, DLQ),
                    key=message.key or "",
                    value=message.value,
                    headers=headers,
                )
            ]
        )
        event_type = message.header("ce_type") or "unknown"
        self._metrics.events_handled.labels(event_type, "dead_lettered").inc()


async def consume_once(consumer: EventConsumer, messages: Sequence[IncomingMessage]) -> None:
    """Apply messages directly (tests and rebuilds that bypass the broker)."""
    for m in messages:
        await consumer.handle(m)
