"""The MDT view's consumer in a process of its own, for the lag benchmark (``bench.mdt.lag``).

``python -m bench.mdt.view_consumer URL BOOTSTRAP PREFIX --warmup W --expect N --out FILE``
runs the view's real handlers, inbox and poll behind the library's ``EventConsumer`` on a
Kafka broker until ``N`` events are applied, printing ``warm`` after the first ``W`` and
then ``done``, and writes when each event's view transaction committed (wall clock) to
``FILE`` as JSON. Only the clock is added: every handler is the view's own, wrapped to note
its event on the session so the commit can be stamped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.consumer import Arrivals, CommitClock, TimedBroker, TimedSession
from bench.pipeline import consumer_poll_timeout_ms, kafka_settings, service_default
from carethread.db import UnitOfWork, create_engine, migrate, session_factory
from carethread.events import Event
from carethread.messaging import EventConsumer, EventRouter
from carethread.messaging.router import Handler
from carethread.observability.logging import configure_logging
from carethread.observability.metrics import ServiceMetrics
from mdt.app import DEFINITION
from mdt.handlers import router as view_router
from mdt.store.queries import CONSUMER


def timed_router(clock: CommitClock) -> EventRouter:
    """The view's router with each handler also noting its event for the commit clock."""
    timed = EventRouter(view_router.registry)
    handlers = {}
    for event_type in view_router.event_types:
        route = view_router.route_for(event_type)
        assert route is not None
        handlers[route.model] = route.handler

    def noting(handler: Handler) -> Handler:
        async def handle(e: Event[Any], uow: UnitOfWork) -> None:
            await handler(e, uow)
            clock.note(uow.session.sync_session.info, str(e.id))

        return handle

    for model, handler in handlers.items():
        timed.on(model)(noting(handler))
    return timed


async def consume(args: argparse.Namespace) -> int:
    clock, arrivals = CommitClock(), Arrivals()
    event.listen(TimedSession, "after_commit", clock.after_commit)
    event.listen(TimedSession, "after_rollback", clock.after_rollback)
    kafka = kafka_settings(args.bootstrap, args.prefix)
    engine = create_engine(args.url)
    await migrate(engine, DEFINITION.migrations)
    sessions = session_factory(engine)
    sessions.configure(sync_session_class=TimedSession)
    consumer = EventConsumer(
        name=CONSUMER,
        router=timed_router(clock),
        sessions=sessions,
        broker=TimedBroker(kafka, arrivals),
        topic_prefix=kafka.topic_prefix,
        metrics=ServiceMetrics(CONSUMER),
        max_attempts=service_default("consumer_max_attempts"),
        retry_backoff=service_default("consumer_retry_backoff_ms") / 1000,
        poll_timeout_ms=consumer_poll_timeout_ms(kafka),
    )
    task = asyncio.create_task(consumer.run(), name="mdt-view-consumer")
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
        await engine.dispose()
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


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mdt.view_consumer")
    parser.add_argument("url")
    parser.add_argument("bootstrap")
    parser.add_argument("prefix")
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--deadline", type=float, default=600.0)
    args = parser.parse_args()
    configure_logging("WARNING", json=False, service="bench-mdt-view")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    return asyncio.run(consume(args))


if __name__ == "__main__":
    raise SystemExit(main())
