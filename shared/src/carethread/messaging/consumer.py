"""Idempotent consumers: each event's effect and its inbox row commit in one transaction,
and offsets are committed only after that. A message that keeps failing after bounded
retries goes to the dead-letter topic with its error, and the consumer moves on.

The events of one poll are applied together where they can be: a run of events shares one
transaction (an inbox row per event beside its effect), so a busy consumer pays for a
commit per poll rather than per event. Anything the run cannot take is handled alone, in
its place in the order."""

from __future__ import annotations

import asyncio
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carethread.db.tables import InboxRow
from carethread.db.uow import UnitOfWork
from carethread.events.envelope import CloudEvent, Event
from carethread.events.registry import EventData
from carethread.events.topics import DLQ, prefixed
from carethread.messaging.broker import (
    Broker,
    BrokerUnavailable,
    IncomingMessage,
    OutgoingMessage,
    Publisher,
    Subscriber,
)
from carethread.messaging.router import EventRouter, Handler, Route
from carethread.observability.logging import get_logger
from carethread.observability.metrics import ServiceMetrics
from carethread.observability.tracing import kafka_headers_to_dict, span_from_headers

log = get_logger(__name__)


class PoisonMessage(Exception):
    """The message can never be applied (unreadable envelope or data)."""


@dataclass(frozen=True)
class _Readable:
    """A message whose envelope and data could be read, ready to join a run."""

    message: IncomingMessage
    envelope: CloudEvent
    route: Route | None  # None: no handler for this type here, so it is ignored
    data: EventData | None


class _RunNotCommitted(Exception):
    """The run's transaction could not commit; its events are applied one by one instead."""

    def __init__(self, length: int) -> None:
        super().__init__(f"a run of {length} events did not commit")
        self.length = length


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
            except Exception as e:  # a consumer must outlive any failure
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
            if messages:
                await self.handle_batch(messages)
                await subscriber.commit(messages)
            for (topic, partition), lag in subscriber.lag().items():
                self._metrics.consumer_lag.labels(topic, str(partition)).set(lag)

    async def handle_batch(self, messages: Sequence[IncomingMessage]) -> None:
        """Apply ``messages`` in order, each exactly once, in as few transactions as they allow.

        The longest run of readable messages whose handlers all succeed commits as one
        transaction, with one inbox row per event. The message that ends a run (unreadable,
        invalid data, or its handler raised) is then handled alone by :meth:`handle`, with
        its retries and the dead-letter topic, before the next run starts, so events are
        applied in the order they came. A run whose commit fails is applied one by one.
        """
        i = 0
        while i < len(messages):
            try:
                i += await self._apply_run(messages[i:])
            except _RunNotCommitted as e:
                for message in messages[i : i + e.length]:
                    await self.handle(message)
                i += e.length
                continue
            if i < len(messages):
                await self.handle(messages[i])
                i += 1

    async def _apply_run(self, messages: Sequence[IncomingMessage]) -> int:
        """Apply the longest prefix of ``messages`` that goes together in one transaction;
        return its length (0 when the first message must be handled alone)."""
        run = self._readable_prefix(messages)
        while run:
            failed_at = await self._apply_together(run)
            if failed_at is None:
                return len(run)
            # Everything before the failed handler goes again without it; the failed
            # one is then retried alone, where its attempts are counted.
            run = run[:failed_at]
        return 0

    def _readable_prefix(self, messages: Sequence[IncomingMessage]) -> list[_Readable]:
        run: list[_Readable] = []
        for message in messages:
            try:
                envelope = CloudEvent.from_json_bytes(message.value)
                route = self._router.route_for(envelope.type)
                data = (
                    None
                    if route is None
                    else route.model.model_validate(
                        self._router.registry.upcast(envelope, route.model.event_type)
                    )
                )
            except Exception:  # handle() reports it, alone
                break
            run.append(_Readable(message, envelope, route, data))
        return run

    async def _apply_together(self, run: Sequence[_Readable]) -> int | None:
        """Apply ``run`` in one transaction: None once committed, else the index of the
        event whose handler raised (nothing is committed then). Raises _RunNotCommitted
        when anything but a handler fails (the database, the commit)."""
        ids = [r.envelope.id for r in run if r.route is not None]
        outcomes: list[tuple[str, str]] = []
        inbox: list[dict[str, object]] = []
        failed_at: int | None = None
        try:
            async with UnitOfWork(self._sessions) as uow:
                seen: set[object] = set()
                if ids:
                    seen = set(
                        await uow.session.scalars(
                            select(InboxRow.event_id).where(
                                InboxRow.consumer == self.name, InboxRow.event_id.in_(ids)
                            )
                        )
                    )
                for index, r in enumerate(run):
                    if r.route is None or r.data is None:
                        outcomes.append((r.envelope.type, "ignored"))
                        continue
                    if r.envelope.id in seen:  # applied before, or earlier in this run
                        outcomes.append((r.envelope.type, "duplicate"))
                        continue
                    if not await self._run_handler(r, r.route, r.data, uow):
                        failed_at = index
                        break
                    seen.add(r.envelope.id)
                    inbox.append(
                        {
                            "consumer": self.name,
                            "event_id": r.envelope.id,
                            "event_type": r.envelope.type,
                            "applied_at": datetime.now(UTC),
                        }
                    )
                    outcomes.append((r.envelope.type, "applied"))
                if failed_at is None and ids:
                    if inbox:  # one statement for the run's inbox rows, in its transaction
                        await uow.session.execute(insert(InboxRow), inbox)
                    await uow.commit()
        except Exception as e:
            raise _RunNotCommitted(len(run)) from e
        if failed_at is not None:
            return failed_at
        for event_type, outcome in outcomes:
            self._metrics.events_handled.labels(event_type, outcome).inc()
            if outcome == "applied":
                self.applied += 1
        return None

    async def _run_handler(
        self, r: _Readable, route: Route, data: EventData, uow: UnitOfWork
    ) -> bool:
        """Run one event's handler inside the run's transaction; False if it raised."""
        headers = kafka_headers_to_dict(r.message.headers)
        with span_from_headers(f"consume {r.message.topic}", headers, kind=SpanKind.CONSUMER):
            try:
                await route.handler(Event(envelope=r.envelope, data=data), uow)
            except Exception:
                return False
        return True

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
                except Exception as e:  # retried, then dead-lettered
                    if attempt >= self._max_attempts:
                        await self._dead_letter(message, e, attempt)
                        return
                    await asyncio.sleep(self._retry_backoff * 2 ** (attempt - 1))
                    continue
                self._metrics.events_handled.labels(envelope.type, outcome).inc()
                return

    async def _apply(self, envelope: CloudEvent, model: type[EventData], handler: Handler) -> str:
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
            await handler(Event(envelope=envelope, data=data), uow)
            uow.session.add(
                InboxRow(
                    consumer=self.name,
                    event_id=envelope.id,
                    event_type=envelope.type,
                    applied_at=datetime.now(UTC),
                )
            )
            clash: IntegrityError | None = None
            try:
                await uow.commit()
            except IntegrityError as e:
                clash = e
        if clash is not None:  # looked into once the failed transaction has ended
            if await self._already_applied(envelope.id):
                # Another delivery of the same event won the race: its effect stands.
                return "duplicate"
            raise clash  # the handler's own rows broke a constraint: retried, then the DLQ
        self.applied += 1
        return "applied"

    async def _already_applied(self, event_id: uuid.UUID) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(
                select(InboxRow.event_id).where(
                    InboxRow.consumer == self.name, InboxRow.event_id == event_id
                )
            )
            await session.rollback()
        return found is not None

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
    await consumer.handle_batch(messages)
