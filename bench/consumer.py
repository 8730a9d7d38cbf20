"""The consuming service: an ``EventConsumer`` with its inbox, in a process of its own.

``python -m bench.consumer URL BOOTSTRAP PREFIX --warmup W --expect N --out FILE`` consumes
until ``N`` events are applied, printing ``warm`` once the first ``W`` are, then ``done``,
and writes when each event's inbox transaction committed (wall clock, comparable with the
producer's process) to ``FILE`` as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from bench.pipeline import (
    CONSUMER,
    EffectRow,
    ThingHappenedV1,
    consumer_poll_timeout_ms,
    kafka_settings,
    open_database,
    registry,
    service_default,
)
from carethread.db import UnitOfWork
from carethread.events import Event
from carethread.messaging import EventConsumer, EventRouter, IncomingMessage, KafkaBroker
from carethread.messaging.kafka import KafkaSubscriber
from carethread.observability.logging import configure_logging
from carethread.observability.metrics import ServiceMetrics
from carethread.settings import KafkaSettings

PENDING = "bench_pending_ids"


class CommitClock:
    """Records when each applied event's transaction committed: the handler notes the event
    on its session, and the session's ``after_commit`` stamps every event noted in it."""

    def __init__(self) -> None:
        self.committed: dict[str, float] = {}
        self.transactions = 0
        self.changed = asyncio.Event()

    def note(self, session_info: dict[Any, Any], event_id: str) -> None:
        session_info.setdefault(PENDING, []).append(event_id)

    def after_commit(self, session: Session) -> None:
        ids: list[str] = session.info.pop(PENDING, [])
        if not ids:
            return
        now = time.time()
        self.transactions += 1
        for event_id in ids:
            self.committed.setdefault(event_id, now)
        self.changed.set()

    def after_rollback(self, session: Session) -> None:
        session.info.pop(PENDING, None)


class Arrivals:
    """When each event was sent by the relay (the record's timestamp) and when a poll
    handed it to the consumer: the stages of its lag."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.polled: dict[str, float] = {}

    def record(self, messages: list[IncomingMessage]) -> None:
        now = time.time()
        for m in messages:
            event_id = m.header("ce_id")
            if event_id is not None and event_id not in self.polled:
                self.sent[event_id] = m.timestamp_ms / 1000
                self.polled[event_id] = now


class TimedSubscriber(KafkaSubscriber):
    arrivals: Arrivals

    async def poll(self, timeout_ms: int, max_records: int) -> list[IncomingMessage]:
        messages = await super().poll(timeout_ms, max_records)
        self.arrivals.record(messages)
        return messages


class TimedBroker(KafkaBroker):
    """The library's Kafka adapter, noting when each message arrives; nothing else changes."""

    def __init__(self, settings: KafkaSettings, arrivals: Arrivals) -> None:
        super().__init__(settings)
        self.arrivals = arrivals

    def subscriber(self, group: str, topics: Sequence[str]) -> KafkaSubscriber:
        subscriber = TimedSubscriber(self.settings, group, topics)
        subscriber.arrivals = self.arrivals
        return subscriber


class TimedSession(Session):
    """The library's session, with the two listeners below attached to this class only."""


def make_router(clock: CommitClock) -> EventRouter:
    router = EventRouter(registry)

    @router.on(ThingHappenedV1)
    async def on_thing(event: Event[ThingHappenedV1], uow: UnitOfWork) -> None:
        uow.session.add(
            EffectRow(
                thing_id=event.data.thing_id,
                event_id=event.id,
                person=str(event.data.person_id),
                n=event.data.n,
            )
        )
        clock.note(uow.session.info, str(event.id))

    return router


async def consume(args: argparse.Namespace) -> int:
    clock = CommitClock()
    arrivals = Arrivals()
    event.listen(TimedSession, "after_commit", clock.after_commit)
    event.listen(TimedSession, "after_rollback", clock.after_rollback)
    kafka = kafka_settings(args.bootstrap, args.prefix)
    async with open_database(args.url) as (_, sessions):
        sessions.configure(sync_session_class=TimedSession)
        consumer = EventConsumer(
            name=CONSUMER,
            router=make_router(clock),
            sessions=sessions,
            broker=TimedBroker(kafka, arrivals),
            topic_prefix=kafka.topic_prefix,
            metrics=ServiceMetrics(CONSUMER),
            max_attempts=service_default("consumer_max_attempts"),
            retry_backoff=service_default("consumer_retry_backoff_ms") / 1000,
            poll_timeout_ms=consumer_poll_timeout_ms(kafka),
        )
        task = asyncio.create_task(consumer.run(), name="bench-consumer")
        warm = False
        deadline = time.monotonic() + args.deadline
        try:
            while len(clock.committed) < args.expect:
                if time.monotonic() > deadline:
                    print(f"timeout {len(clock.committed)}", flush=True)
                    break
                if not warm and len(clock.committed) >= args.warmup:
                    warm = True
                    print("warm", flush=True)
                clock.changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await clock.changed.wait()
        finally:
            await asyncio.sleep(0.2)  # let the last unit of work close before stopping
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "committed": clock.committed,
                "transactions": clock.transactions,
                "sent": arrivals.sent,
                "polled": arrivals.polled,
            }
        )
    )
    done = len(clock.committed) >= args.expect
    print("done" if done else "incomplete", flush=True)
    return 0 if done else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.consumer")
    parser.add_argument("url")
    parser.add_argument("bootstrap")
    parser.add_argument("prefix")
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--deadline", type=float, default=600.0)
    parser.add_argument("--profile", default=None, help="write cProfile stats to this file")
    args = parser.parse_args(argv)
    configure_logging("WARNING", json=False, service="bench-consumer")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    if args.profile:
        with cProfile.Profile() as profile:
            code = asyncio.run(consume(args))
        profile.dump_stats(args.profile)
        return code
    return asyncio.run(consume(args))


if __name__ == "__main__":
    sys.exit(main())
