"""Live apply by several consumers in the view's group, as ``MDT_WORKERS`` (or replicas) run
them: a process each, applying the events of the partitions the broker would assign it.

Events go to a partition by their key (the person, or the listing), the same partition
number in every topic for one key, and each topic's partitions are dealt in ranges over the
consumers, as the platform's consumers deal them (``RangePartitionAssignor``): a consumer
gets the same partition numbers of every topic, so all of a person's events. Each consumer
takes its events in the order the single consumer would have had them (shuffled across
topics, with repeats) and applies them in polls of the same size, with the real handlers
and inbox."""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import queue
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carethread.events import CloudEvent
from carethread.messaging import IncomingMessage
from mdt.rebuild import analyse
from tests.mdt.history import TOPIC, topic_of
from tests.mdt.support import view


def _assignment(consumers: int, partitions: int) -> dict[tuple[str, int], int]:
    """Per topic, consecutive partitions to each consumer, the first ones one more when
    they do not divide evenly (as the range assignor deals them)."""
    each, extra = divmod(partitions, consumers)
    owner = [c for c in range(consumers) for _ in range(each + (c < extra))]
    return {(topic, p): owner[p] for topic in TOPIC.values() for p in range(partitions)}


def _key(event: CloudEvent) -> str:
    return event.personid or event.subject


@dataclass(frozen=True)
class Share:
    """One consumer's messages, as (topic, partition, key, value, type)."""

    path: Path
    events: int


def shares(events: list[CloudEvent], consumers: int, partitions: int, folder: Path) -> list[Share]:
    assigned = _assignment(consumers, partitions)
    split: list[list[tuple[str, int, str, bytes, str]]] = [[] for _ in range(consumers)]
    for event in events:
        topic, key = topic_of(event), _key(event)
        partition = zlib.crc32(key.encode()) % partitions
        split[assigned[(topic, partition)]].append(
            (topic, partition, key, event.to_json_bytes(), event.type)
        )
    out = []
    for n, messages in enumerate(split):
        path = folder / f"consumer-{n}.pickle"
        path.write_bytes(pickle.dumps(messages))
        out.append(Share(path, len(messages)))
    return out


async def _apply_share(
    url: str, share: Path, consumers: int, batch: int, start: Any
) -> tuple[float, float]:
    rows = pickle.loads(share.read_bytes())
    messages = [
        IncomingMessage(topic, partition, offset, key, value, (("ce_type", kind.encode()),))
        for offset, (topic, partition, key, value, kind) in enumerate(rows)
    ]
    async with view(url) as v:
        await asyncio.to_thread(start.wait)  # every consumer ready: all start together
        started, analysed_at = time.time(), 0
        for first in range(0, len(messages), batch):
            await v.consumer.handle_batch(messages[first : first + batch])
            # Statistics refreshed as the view grows, as the single consumer's run does
            # (autovacuum is off on the benchmark's server); by one consumer for all.
            done = (first + batch) * consumers
            if share.name.endswith("-0.pickle") and done >= max(2 * analysed_at, 5_000):
                await analyse(v.sessions)
                analysed_at = done
        return started, time.time()


def _consumer(url: str, share: Path, consumers: int, batch: int, start: Any, results: Any) -> None:
    results.put(asyncio.run(_apply_share(url, share, consumers, batch, start)))


def apply_in_group(url: str, group: list[Share], batch: int) -> float:
    """Run one process per share against the (migrated) view at ``url``; return the seconds
    from the first consumer starting to the last finishing."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(len(group)), context.Queue()
    processes = [
        context.Process(target=_consumer, args=(url, s.path, len(group), batch, start, results))
        for s in group
    ]
    for process in processes:
        process.start()
    times: list[tuple[float, float]] = []
    while len(times) < len(processes):
        try:
            times.append(results.get(timeout=5))
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in processes):
                start.abort()  # the others must not wait for it
                raise RuntimeError("a consumer process failed") from None
    for process in processes:
        process.join()
    return max(end for _, end in times) - min(begun for begun, _ in times)
