"""``python -m bench.care_plans``: plan reads, versioned updates (version + audit + outbox)
at 50 concurrent editors, and 50-version histories, against the care_plans service running
as its own process on PostgreSQL; recorded in ``bench/results/``.

The targets (issue 4) assume 50,000 persons; ``--persons`` scales the data down for a machine
that cannot hold it, and the results say which scale was run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import machine
from bench.care_plans.data import BENCH_TEAM, Shape, seed
from bench.stats import LagStats, lag_stats
from care_plans.app import DEFINITION
from carethread.auth import mint_dev_token
from carethread.db import create_engine, migrate
from carethread.settings import AuthSettings
from carethread.testing.apps import TANSU_CLIENT
from carethread.testing.databases import postgres_available, temporary_postgres_database
from carethread.testing.tansu import TansuBroker, free_port

RESULTS = Path(__file__).parent.parent / "results"
TARGETS_MS = {"read": 30.0, "update": 60.0, "history": 50.0}


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.care_plans", description=__doc__)
    p.add_argument("--persons", type=int, default=50_000)
    p.add_argument("--goals", type=int, default=10)
    p.add_argument("--actions", type=int, default=30)
    p.add_argument("--versions", type=int, default=50)
    p.add_argument("--editors", type=int, default=50, help="concurrent editors (update)")
    p.add_argument("--readers", type=int, default=10, help="concurrent readers (read, history)")
    p.add_argument("--requests", type=int, default=2_000, help="timed requests per scenario")
    p.add_argument("--name", default=None, help="results file name (default DATE-care-plans)")
    p.add_argument("--note", action="append", default=[], help="a line for the Notes section")
    p.add_argument("--no-record", action="store_true", help="print only; write no results")
    return p.parse_args(argv)


@contextlib.asynccontextmanager
async def service(dsn: str, key: Path, tansu: str) -> AsyncIterator[str]:
    """``python -m care_plans`` on a free port, as in production; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "CARE_PLANS_DATABASE_URL": dsn,
        "CARE_PLANS_PORT": str(port),
        "CARE_PLANS_LOG_LEVEL": "WARNING",
        "CARE_PLANS_OVERDUE_CHECK_SECONDS": "0",
        "CARE_PLANS_DATABASE_POOL_SIZE": "25",
        "CARETHREAD_AUTH_DEV_KEY_PATH": str(key),
        "KAFKA_BOOTSTRAP_SERVERS": tansu,
        "KAFKA_TOPIC_PREFIX": "bench.",
        **{"KAFKA_" + k.upper(): str(v) for k, v in TANSU_CLIENT.items()},
    }
    log = key.parent / "care_plans.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "care_plans"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"care_plans exited: {log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/health/live")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("care_plans did not start")
                await asyncio.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def timed(
    count: int, concurrency: int, one: Callable[[int], Awaitable[float | None]]
) -> tuple[LagStats, int, float]:
    """Run ``one(i)`` ``count`` times, ``concurrency`` at once; its latencies, how many gave
    none (refused), and the requests per second achieved."""
    latencies: list[float] = []
    refused = 0
    queue = iter(range(count))

    async def worker() -> None:
        nonlocal refused
        for i in queue:
            took = await one(i)
            if took is None:
                refused += 1
            else:
                latencies.append(took)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return lag_stats(latencies), refused, round(count / elapsed, 1)


async def scenarios(
    url: str, headers: dict[str, str], ids: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    rng = random.Random(7)
    out: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=args.editors + 10)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as c:

        async def read(_: int) -> float | None:
            person = rng.choice(ids)
            t = time.perf_counter()
            r = await c.get(f"/api/v1/persons/{person}/care-plan")
            took = time.perf_counter() - t
            assert r.status_code == 200, r.text
            return took

        async def update(i: int) -> float | None:
            person = rng.choice(ids)
            r = await c.get(f"/api/v1/persons/{person}/care-plan")
            assert r.status_code == 200, r.text
            actions = r.json()["actions"]
            k = i % len(actions)
            actions[k]["status"] = "in_progress" if actions[k]["status"] == "planned" else "planned"
            t = time.perf_counter()
            w = await c.patch(
                f"/api/v1/persons/{person}/care-plan",
                content=json.dumps({"actions": actions}).encode(),
                headers={
                    "If-Match": r.headers["ETag"],
                    "Content-Type": "application/merge-patch+json",
                },
            )
            took = time.perf_counter() - t
            if w.status_code == 412:  # another editor of the same person got there first
                return None
            assert w.status_code == 200, w.text
            return took

        async def history(_: int) -> float | None:
            person = rng.choice(ids)
            t = time.perf_counter()
            r = await c.get(f"/api/v1/persons/{person}/care-plan/history")
            took = time.perf_counter() - t
            assert r.status_code == 200, r.text
            assert len(r.json()) >= args.versions
            return took

        await timed(200, args.readers, read)  # warm-up: connections, caches
        alone = max(args.requests // 4, 50)
        for name, fn, concurrency, count in (
            ("read", read, args.readers, args.requests),
            ("update", update, args.editors, args.requests),
            ("history", history, args.readers, args.requests),
            # One request at a time: the service's own latency, without queueing for the CPU.
            ("read, one at a time", read, 1, alone),
            ("update, one at a time", update, 1, alone),
            ("history, one at a time", history, 1, alone),
        ):
            stats, refused, rate = await timed(count, concurrency, fn)
            target = TARGETS_MS[name.split(",")[0]]
            out[name] = {
                "concurrency": concurrency,
                "latency": asdict(stats),
                "refused_412": refused,
                "requests_per_s": rate,
                "target_p95_ms": target,
                "met": stats.p95_ms < target,
            }
            print(name, out[name], flush=True)
    return out


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    reason = await postgres_available()
    if reason:
        raise SystemExit(reason)
    shape = Shape(args.persons, args.goals, args.actions, args.versions)
    load_before = machine.load_average()
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "dev-key.pem"
        auth = AuthSettings(dev_key_path=key)
        token = mint_dev_token(
            auth, sub="bench.user", org="F83004", roles=["practitioner"], teams=[BENCH_TEAM]
        )
        async with temporary_postgres_database("ct_bench_care_plans") as dsn:
            engine = create_engine(dsn)
            await migrate(engine, DEFINITION.migrations)
            await engine.dispose()
            t = time.perf_counter()
            seeded = await seed(dsn.replace("postgresql+asyncpg://", "postgresql://"), shape)
            seeding_s = round(time.perf_counter() - t, 1)
            print(f"seeded {shape} in {seeding_s}s", flush=True)
            broker = TansuBroker().start()
            try:
                async with service(dsn, key, broker.bootstrap_servers) as url:
                    ids = [str(i) for i in seeded.person_ids]
                    figures = await scenarios(url, {"Authorization": f"Bearer {token}"}, ids, args)
            finally:
                broker.stop()
    return {
        "benchmark": "care-plans",
        "recorded_at": datetime.now(UTC).isoformat(),
        "machine": machine.machine(),
        "postgres": await machine.postgres_server(),
        "load_average_before": load_before,
        "load_average_after": machine.load_average(),
        "shape": asdict(shape),
        "plan_document_bytes": seeded.document_bytes,
        "seeding_seconds": seeding_s,
        "scenarios": figures,
        "notes": args.note,
    }


def markdown(result: dict[str, Any]) -> str:
    s = result["shape"]
    lines = [
        f"# Care plans benchmark, {result['recorded_at'][:10]}",
        "",
        f"{s['persons']:,} persons, each plan {s['goals']} goals, {s['actions']} actions and "
        f"{s['versions']} versions (current document {result['plan_document_bytes']:,} bytes of "
        f"JSON); PostgreSQL {result['postgres']['server_version']}; the service as its own "
        "process (`python -m care_plans`), clients over HTTP from another process.",
        "",
        "| scenario | concurrency | requests/s | p50 ms | p95 ms | p99 ms | max ms "
        "| target p95 | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, f in result["scenarios"].items():
        lat = f["latency"]
        lines.append(
            f"| {name} | {f['concurrency']} | {f['requests_per_s']} | {lat['p50_ms']} | "
            f"{lat['p95_ms']} | {lat['p99_ms']} | {lat['max_ms']} | < {f['target_p95_ms']} | "
            f"{'yes' if f['met'] else 'no'} |"
        )
    m = result["machine"]
    lines += [
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB, {m['os']}, Python "
        f"{m['python']}. Load average before {result['load_average_before']}, after "
        f"{result['load_average_after']}. Seeding took {result['seeding_seconds']} s.",
        "",
        "Update = `PATCH` (merge patch of the actions) with `If-Match`, timed alone: the read "
        "that supplies the ETag is not counted; it saves a version row, the audit record and "
        "the outbox events in one transaction. 412s (two editors on one person) are counted, "
        "not timed.",
    ]
    if result["notes"]:
        lines += ["", "## Notes", "", *[f"- {n}" for n in result["notes"]]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    result = asyncio.run(bench(args))
    text = markdown(result)
    print(text)
    if not args.no_record:
        name = args.name or f"{result['recorded_at'][:10]}-care-plans"
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(text)


if __name__ == "__main__":
    main()
