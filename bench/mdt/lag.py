"""Lag from a producing service's commit to the MDT view's commit, at an offered rate.

The four producing services are played here: each has an outbox (PostgreSQL) and the library's
``OutboxRelay`` publishing to a real Tansu broker. The view's consumer runs in a child
process (``bench.mdt.view_consumer``) with the view's handlers, inbox and PostgreSQL database. A
generated history is written open loop, one event per producer transaction, each at its
due time whether or not the ones before it have committed (as independent requests would),
into the outbox of the service that owns it. Lag = view commit - producer commit, per event,
wall clock on one machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.pipeline import kafka_settings, service_default
from bench.stats import lag_stats
from carethread.db import UnitOfWork, create_engine, migrate, session_factory
from carethread.events import CloudEvent
from carethread.messaging import KafkaBroker, OutboxRelay, add_to_outbox
from carethread.observability.metrics import ServiceMetrics
from carethread.testing.databases import temporary_postgres_database
from carethread.testing.tansu import TansuBroker
from tests.mdt.history import TOPIC, topic_of


@dataclass
class Producer:
    """One producing service: its outbox database and its relay."""

    service: str
    relay: OutboxRelay
    write: Any  # async (event) -> commit time

    @staticmethod
    @asynccontextmanager
    async def running(service: str, url: str, kafka: Any) -> AsyncIterator[Producer]:
        # Few connections: the benchmark's PostgreSQL server is shared (100 connections).
        engine = create_engine(url, pool_size=2)
        await migrate(engine, None)  # the platform's tables: outbox, inbox, audit
        sessions = session_factory(engine)
        relay = OutboxRelay(
            service=service,
            engine=engine,
            publisher=KafkaBroker(kafka).publisher(),
            topics=[TOPIC[service]],
            topic_prefix=kafka.topic_prefix,
            metrics=ServiceMetrics(service),
            batch_size=service_default("relay_batch_size"),
            poll_interval=service_default("relay_poll_interval_ms") / 1000,
            linger=service_default("relay_linger_ms") / 1000,
        )

        async def write(events: Sequence[CloudEvent]) -> float:
            async with UnitOfWork(sessions, on_commit=relay.notify) as uow:
                for e in events:
                    await add_to_outbox(uow, e, topic=topic_of(e), key=e.personid or e.subject)
                await uow.commit()
                return time.time()

        task = asyncio.create_task(relay.run(), name=f"relay-{service}")
        try:
            async with asyncio.timeout(60):
                while not relay.connected:
                    if task.done():
                        task.result()
                    await asyncio.sleep(0.05)
            yield Producer(service, relay, write)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await engine.dispose()


async def _line(child: asyncio.subprocess.Process, timeout: float) -> str:
    assert child.stdout is not None
    async with asyncio.timeout(timeout):
        return (await child.stdout.readline()).decode().strip()


async def measure(
    events: Sequence[CloudEvent], *, warmup: int, rate: int, tick: int, folder: Path
) -> dict[str, Any]:
    """Write ``events[:warmup]`` to warm up, then the rest at ``rate`` events/s: every
    ``tick / rate`` seconds the next ``tick`` events, one transaction per service among
    them (``tick`` 1: one event per transaction)."""
    measured = events[warmup:]
    produced: dict[str, float] = {}
    behind = 0.0
    async with AsyncExitStack() as stack:
        broker = await asyncio.to_thread(TansuBroker().start)
        stack.push_async_callback(asyncio.to_thread, broker.stop)
        kafka = kafka_settings(broker.bootstrap_servers, f"m{uuid.uuid4().hex[:10]}.")
        view_url = await stack.enter_async_context(temporary_postgres_database("mdt_bench_view"))
        producers = {}
        for service in TOPIC:
            url = await stack.enter_async_context(temporary_postgres_database("mdt_bench_out"))
            producers[service] = await stack.enter_async_context(
                Producer.running(service, url, kafka)
            )
        out = folder / "view-consumer.json"
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.mdt.view_consumer",
            view_url,
            broker.bootstrap_servers,
            kafka.topic_prefix,
            f"--warmup={warmup}",
            f"--expect={len(events)}",
            f"--out={out}",
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            for start in range(0, warmup, 50):
                for e in events[start : min(start + 50, warmup)]:
                    await producers[_service(e)].write([e])
            if (said := await _line(child, 120)) != "warm":
                raise RuntimeError(f"the view's consumer said {said!r}")
            commit_latencies: list[float] = []

            async def write(service: str, batch: list[CloudEvent]) -> None:
                began = time.time()
                committed = await producers[service].write(batch)
                commit_latencies.append(committed - began)
                produced.update((str(e.id), committed) for e in batch)

            writes = []
            begun = time.monotonic()
            for start in range(0, len(measured), tick):
                delay = begun + start / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    behind = max(behind, -delay)
                by_service: dict[str, list[CloudEvent]] = {}
                for e in measured[start : start + tick]:
                    by_service.setdefault(_service(e), []).append(e)
                writes += [asyncio.create_task(write(s, b)) for s, b in by_service.items()]
            await asyncio.gather(*writes)
            if (said := await _line(child, 300)) != "done":
                raise RuntimeError(f"the view's consumer said {said!r}")
            await child.wait()
        finally:
            if child.returncode is None:
                child.terminate()
                with contextlib.suppress(Exception):
                    await child.wait()
    report = json.loads(out.read_text())
    committed = report["committed"]
    missing = produced.keys() - committed.keys()
    if missing:
        raise RuntimeError(f"{len(missing)} events never reached the view")
    ids = list(produced)
    span = max(produced.values()) - min(produced.values())
    return {
        "offered_rate": rate,
        "events_per_tick": tick,
        "producer_transactions": len(commit_latencies),
        "events": len(measured),
        "warmup_events": warmup,
        "achieved_rate": round((len(measured) - 1) / span, 1) if span else 0.0,
        "max_behind_schedule_ms": round(behind * 1000, 1),
        "producer_commit": _stats(commit_latencies),
        "view_transactions": report["transactions"],
        "lag": _stats([committed[k] - produced[k] for k in ids]),
        "stages": {
            "commit_to_relay_send": _stats([report["sent"][k] - produced[k] for k in ids]),
            "relay_send_to_poll": _stats([report["polled"][k] - report["sent"][k] for k in ids]),
            "poll_to_view_commit": _stats([committed[k] - report["polled"][k] for k in ids]),
        },
    }


def _service(event: CloudEvent) -> str:
    return event.source.removeprefix("carethread/")


def _stats(seconds: list[float]) -> dict[str, Any]:
    return asdict(lag_stats(seconds))
