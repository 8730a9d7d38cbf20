"""``python -m bench.mdt``: the MDT view on a generated history across the four producing
services — apply rate through the real handlers and inbox, rebuild from the services'
outboxes, the rebuilt view compared with the live one table by table, and caseload reads
for the busiest neighbourhood; recorded in ``bench/results/`` with ``--record``.

The issue asks rebuild == live on at least 100,000 events (``--people 9800`` gives about
that many); ``--people`` scales it down for a quick look."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import machine
from bench.mdt import group, lag
from bench.stats import percentile
from carethread.testing.databases import temporary_postgres_database
from mdt.rebuild import analyse, rebuild
from mdt.store import caseload as store
from mdt.store.tables import MdtBase
from tests.mdt.history import NEIGHBOURHOOD, history
from tests.mdt.outboxes import outboxes
from tests.mdt.support import View, view

RESULTS = Path(__file__).parent.parent / "results"
REBUILD_PAGE = 2_000  # events per outbox page, and per transaction, on rebuild


async def _caseload_reads(v: View, reads: int) -> dict[str, float]:
    today = datetime.now(UTC).date()
    times = []
    async with v.sessions() as session:
        people = (await store.headline(session, NEIGHBOURHOOD, today))["people"]
        for n in range(reads):
            started = time.perf_counter()
            query = store.CaseloadQuery(NEIGHBOURHOOD, today, offset=(n * 100) % max(people, 1))
            _, rows = await store.caseload(session, query)
            await store.overdue_actions(session, rows, today)
            await store.open_referrals(session, rows)
            await store.headline(session, NEIGHBOURHOOD, today)
            times.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times)
    return {
        "people_in_neighbourhood": people,
        "p50_ms": round(percentile(ordered, 50), 2),
        "p95_ms": round(percentile(ordered, 95), 2),
    }


async def _apply_live(v: View, events: list[Any], batch: int = 500) -> None:
    """Polls of ``batch``, with the statistics refreshed as the view grows (autovacuum is
    off on the benchmark's server; a service's database would have it on)."""
    analysed_at = 0
    for start in range(0, len(events), batch):
        await v.apply(events[start : start + batch], batch=batch)
        if start + batch >= max(2 * analysed_at, 5_000):
            await analyse(v.sessions)
            analysed_at = start + batch


async def run(
    people: int, backend: str, folder: Path, consumers: int = 1, partitions: int = 3
) -> dict[str, Any]:
    events = history(people, seed=42)
    rng = random.Random(1)
    live_order = events[:]
    rng.shuffle(live_order)
    live_order += rng.sample(events, len(events) // 100)  # 1% delivered twice
    async with AsyncExitStack() as stack:
        if backend == "sqlite":
            live_url = f"sqlite+aiosqlite:///{folder / 'live.db'}"
            rebuilt_url = f"sqlite+aiosqlite:///{folder / 'rebuilt.db'}"
        else:
            live_url = await stack.enter_async_context(temporary_postgres_database("mdt_bench"))
            rebuilt_url = await stack.enter_async_context(temporary_postgres_database("mdt_bench"))
        logs = await stack.enter_async_context(outboxes(folder, events))
        live = await stack.enter_async_context(view(live_url))
        rebuilt = await stack.enter_async_context(view(rebuilt_url))

        if consumers == 1:
            started = time.perf_counter()
            await _apply_live(live, live_order)
            live_s = time.perf_counter() - started
        else:
            live_s = await asyncio.to_thread(
                group.apply_in_group,
                live_url,
                group.shares(live_order, consumers, partitions, folder),
                500,
            )

        started = time.perf_counter()
        applied = await rebuild(rebuilt.sessions, logs, page=REBUILD_PAGE)
        rebuild_s = time.perf_counter() - started

        live_contents, rebuilt_contents = await live.contents(), await rebuilt.contents()
        reads = await _caseload_reads(live, 50)
    return {
        "backend": backend,
        "events": len(events),
        "delivered_live": len(live_order),
        "live_consumers": consumers,
        "partitions_per_topic": partitions,
        "live_apply_s": round(live_s, 1),
        "live_events_per_s": round(len(live_order) / live_s),
        "rebuild_applied": applied,
        "rebuild_s": round(rebuild_s, 1),
        "rebuild_events_per_s": round(applied / rebuild_s),
        "rebuilt_equals_live": rebuilt_contents == live_contents,
        "tables_differing": sorted(
            t for t in live_contents if live_contents[t] != rebuilt_contents.get(t)
        ),
        "rows": {table: len(rows) for table, rows in live_contents.items()},
        "caseload_reads": reads,
    }


async def rebuild_only(people: int, folder: Path) -> dict[str, Any]:
    """Only the rebuild, from outboxes holding ``people`` people's history, into an empty
    view on PostgreSQL: the issue's 1,000,000-event rebuild (``--people 98000``), without
    building the live view first."""
    events = history(people, seed=42)
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(temporary_postgres_database("mdt_bench"))
        logs = await stack.enter_async_context(outboxes(folder, events))
        rebuilt = await stack.enter_async_context(view(url))
        started = time.perf_counter()
        applied = await rebuild(rebuilt.sessions, logs, page=REBUILD_PAGE)
        rebuild_s = time.perf_counter() - started
        async with rebuilt.sessions() as session:
            rows = {
                table.name: await session.scalar(select(func.count()).select_from(table))
                for table in MdtBase.metadata.sorted_tables
            }
    return {
        "backend": "postgres",
        "events": len(events),
        "rebuild_applied": applied,
        "rebuild_s": round(rebuild_s, 1),
        "rebuild_events_per_s": round(applied / rebuild_s),
        "rows": rows,
    }


async def _lag(rate: int, seconds: float, tick: int, folder: Path) -> dict[str, Any]:
    """Producer commit to view commit over Tansu, the view always on PostgreSQL, for a
    history long enough to offer ``rate`` for ``seconds``."""
    warmup = 500
    wanted = warmup + int(rate * seconds)
    events = history(max(wanted // 10, 10), seed=43)  # about ten events a person
    while len(events) < wanted:
        events = history(len(events) // 8 + 10, seed=43)
    return await lag.measure(events[:wanted], warmup=warmup, rate=rate, tick=tick, folder=folder)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mdt", description=__doc__)
    parser.add_argument("--people", type=int, default=9_800)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--record", action="store_true")
    parser.add_argument(
        "--rebuild-only",
        action="store_true",
        help="only rebuild --people people's history into an empty PostgreSQL view",
    )
    parser.add_argument(
        "--consumers",
        type=int,
        default=1,
        help="consumers applying the live view together, a process each (as MDT_WORKERS)",
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=3,
        help="partitions per topic with --consumers (KAFKA_PARTITIONS; the platform's is 3)",
    )
    parser.add_argument(
        "--lag-rate", type=int, default=500, help="events/s offered in the lag run (0: none)"
    )
    parser.add_argument("--lag-seconds", type=float, default=20.0)
    parser.add_argument(
        "--lag-tick",
        type=int,
        default=1,
        help="events written together (one transaction each service)",
    )
    args = parser.parse_args()
    before = machine.load_average()
    with tempfile.TemporaryDirectory(prefix="bench-mdt-") as folder:
        if args.rebuild_only:
            result = asyncio.run(rebuild_only(args.people, Path(folder)))
        else:
            result = asyncio.run(
                run(args.people, args.backend, Path(folder), args.consumers, args.partitions)
            )
        if args.lag_rate and not args.rebuild_only:
            result["lag"] = asyncio.run(
                _lag(args.lag_rate, args.lag_seconds, args.lag_tick, Path(folder))
            )
    result["machine"] = machine.machine()
    result["load_before"], result["load_after"] = before, machine.load_average()
    print(json.dumps(result, indent=2, default=str))
    if args.record:
        day = datetime.now(UTC).date().isoformat()
        kind = "rebuild" if args.rebuild_only else args.backend
        path = RESULTS / f"{day}-mdt-{kind}.json"
        path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"recorded in bench/results/{path.name}")


if __name__ == "__main__":
    main()
