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
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import machine
from bench.care_plans.data import BENCH_TEAM, Seeded, Shape, seed
from bench.stats import lag_stats
from care_plans.app import DEFINITION
from carethread.auth import mint_dev_token
from carethread.db import create_engine, migrate
from carethread.settings import AuthSettings
from carethread.testing.apps import TANSU_CLIENT
from carethread.testing.databases import (
    admin_dsn,
    postgres_available,
    sqlalchemy_url,
    temporary_postgres_database,
)
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
    p.add_argument(
        "--think-s", type=float, default=30.0, help="an editor's mean pause between saves"
    )
    p.add_argument("--updates", type=int, default=300, help="saves timed with the editors")
    p.add_argument("--read-rate", type=float, default=10.0, help="plan reads offered per second")
    p.add_argument("--history-rate", type=float, default=5.0, help="histories offered per s")
    p.add_argument("--requests", type=int, default=600, help="timed reads and histories")
    p.add_argument("--readers", type=int, default=10, help="clients, closed loop (read, history)")
    p.add_argument("--saturation", type=int, default=300, help="requests per closed-loop run")
    p.add_argument("--workers", type=int, default=1, help="service processes (CARE_PLANS_WORKERS)")
    p.add_argument("--keep-database", default=None, help="reuse (or seed and keep) this database")
    p.add_argument("--name", default=None, help="results file name (default DATE-care-plans)")
    p.add_argument("--note", action="append", default=[], help="a line for the Notes section")
    p.add_argument("--no-record", action="store_true", help="print only; write no results")
    return p.parse_args(argv)


@dataclass(frozen=True)
class Service:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time used so far by the service: its process and the worker processes it
        started (Linux ``/proc``). Per request, a guide that the machine's other load does not
        inflate as it does latency."""
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                pid, ppid = int(stat.parent.name), int(fields[1])
                if self.pid in (pid, ppid):
                    total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


@contextlib.asynccontextmanager
async def service(dsn: str, key: Path, tansu: str, workers: int) -> AsyncIterator[Service]:
    """``python -m care_plans`` on a free port, as in production."""
    port = free_port()
    env = {
        **os.environ,
        "CARE_PLANS_DATABASE_URL": dsn,
        "CARE_PLANS_PORT": str(port),
        "CARE_PLANS_LOG_LEVEL": "WARNING",
        "CARE_PLANS_OVERDUE_CHECK_SECONDS": "0",
        "CARE_PLANS_DATABASE_POOL_SIZE": "25",
        "CARE_PLANS_WORKERS": str(workers),
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
        yield Service(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


Timed = Callable[[float], Awaitable[float | None]]  # the moment it was due -> its latency


def _result(
    latencies: list[float], refused: int, count: int, elapsed: float, **about: Any
) -> dict[str, Any]:
    return {
        **about,
        "latency": asdict(lag_stats(latencies)),
        "refused_412": refused,
        "requests_per_s": round(count / elapsed, 1),
    }


async def closed_loop(count: int, concurrency: int, one: Timed) -> dict[str, Any]:
    """``count`` requests from ``concurrency`` clients, each sending its next as soon as its
    last is answered: the service's saturation throughput, and the queueing that costs."""
    latencies: list[float] = []
    refused = 0
    queue = iter(range(count))

    async def client() -> None:
        nonlocal refused
        for _ in queue:
            took = await one(time.perf_counter())
            if took is None:
                refused += 1
            else:
                latencies.append(took)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return _result(latencies, refused, count, elapsed, model="closed loop", clients=concurrency)


async def open_loop(count: int, rate: float, one: Timed, rng: random.Random) -> dict[str, Any]:
    """``count`` requests arriving at random (Poisson) at ``rate`` a second whether or not
    earlier ones are answered, as independent users' requests do; each latency runs from the
    moment the request was due, so time spent queueing for the service counts."""
    latencies: list[float] = []
    refused = 0

    async def request(due: float) -> None:
        nonlocal refused
        took = await one(due)
        if took is None:
            refused += 1
        else:
            latencies.append(took)

    started = time.perf_counter()
    due = started
    tasks = []
    for _ in range(count):
        due += rng.expovariate(rate)
        await asyncio.sleep(max(due - time.perf_counter(), 0))
        tasks.append(asyncio.create_task(request(due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return _result(latencies, refused, count, elapsed, model="open loop", offered_per_s=rate)


async def editors(
    count: int,
    people: int,
    think_s: float,
    save: Callable[[float], Awaitable[float | None]],
    rng: random.Random,
) -> dict[str, Any]:
    """``people`` editors at once, each in a loop: read a plan, think (a random pause, mean
    ``think_s``), save it. Until ``count`` saves are done; each latency runs from the end of
    the pause (the moment the editor pressed save) to the answer."""
    latencies: list[float] = []
    refused = 0
    left = count

    async def editor() -> None:
        nonlocal refused, left
        await asyncio.sleep(rng.uniform(0, think_s))  # the editors do not all start at once
        while left > 0:
            left -= 1
            took = await save(think_s and rng.expovariate(1 / think_s))
            if took is None:
                refused += 1
            else:
                latencies.append(took)

    started = time.perf_counter()
    await asyncio.gather(*(editor() for _ in range(people)))
    elapsed = time.perf_counter() - started
    return _result(
        latencies, refused, count, elapsed, model="editors", clients=people, think_s=think_s
    )


async def scenarios(
    service: Service, headers: dict[str, str], ids: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    rng = random.Random(7)
    out: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=args.editors + 10)
    async with httpx.AsyncClient(
        base_url=service.url, headers=headers, limits=limits, timeout=60
    ) as c:

        async def read(due: float) -> float | None:
            r = await c.get(f"/api/v1/persons/{rng.choice(ids)}/care-plan")
            assert r.status_code == 200, r.text
            return time.perf_counter() - due

        async def edit(think: float) -> float | None:
            """Read, think for ``think`` seconds, save: the save is timed."""
            person = rng.choice(ids)
            r = await c.get(f"/api/v1/persons/{person}/care-plan")
            assert r.status_code == 200, r.text
            actions = r.json()["actions"]
            k = rng.randrange(len(actions))
            actions[k]["status"] = "in_progress" if actions[k]["status"] == "planned" else "planned"
            body = json.dumps({"actions": actions}).encode()
            await asyncio.sleep(think)
            due = time.perf_counter()
            w = await c.patch(
                f"/api/v1/persons/{person}/care-plan",
                content=body,
                headers={
                    "If-Match": r.headers["ETag"],
                    "Content-Type": "application/merge-patch+json",
                },
            )
            took = time.perf_counter() - due
            if w.status_code == 412:  # another editor of the same person got there first
                return None
            assert w.status_code == 200, w.text
            return took

        async def update(_: float) -> float | None:
            return await edit(0)

        async def history(due: float) -> float | None:
            r = await c.get(f"/api/v1/persons/{rng.choice(ids)}/care-plan/history")
            assert r.status_code == 200, r.text
            assert len(r.json()) >= args.versions
            return time.perf_counter() - due

        await closed_loop(200, args.readers, read)  # warm-up: connections, caches
        Run = Callable[[], Awaitable[dict[str, Any]]]
        runs: list[tuple[str, str, Run]] = [
            ("read", "read", lambda: open_loop(args.requests, args.read_rate, read, rng)),
            (
                "update",
                "update",
                lambda: editors(args.updates, args.editors, args.think_s, edit, rng),
            ),
            (
                "history",
                "history",
                lambda: open_loop(args.requests, args.history_rate, history, rng),
            ),
            # Clients sending back to back: what the service does when saturated. Not
            # what the targets are about; reported so that no one mistakes one for the other.
            ("read, saturated", "read", lambda: closed_loop(args.saturation, args.readers, read)),
            (
                "update, saturated",
                "update",
                lambda: closed_loop(args.saturation, args.editors, update),
            ),
            (
                "history, saturated",
                "history",
                lambda: closed_loop(args.saturation, args.readers, history),
            ),
        ]
        for name, target, run in runs:
            cpu = service.cpu_seconds()
            figures = await run()
            # Per request of the scenario: the editors' reads are the service's work too.
            figures["service_cpu_ms"] = round(
                1000 * (service.cpu_seconds() - cpu) / figures["latency"]["count"], 1
            )
            out[name] = _judged(name, target, figures)
        # The day as the service lives it: editors saving while others read plans and
        # histories, all at once, each judged against its own target.
        lasting = args.updates * args.think_s / args.editors  # the editors' time, roughly
        cpu = service.cpu_seconds()
        mixed = await asyncio.gather(
            editors(args.updates, args.editors, args.think_s, edit, rng),
            open_loop(max(int(lasting * args.read_rate), 1), args.read_rate, read, rng),
            open_loop(max(int(lasting * args.history_rate), 1), args.history_rate, history, rng),
        )
        answered = sum(f["latency"]["count"] for f in mixed)
        per_request = round(1000 * (service.cpu_seconds() - cpu) / answered, 1)
        for target, figures in zip(("update", "read", "history"), mixed, strict=True):
            figures["service_cpu_ms"] = per_request
            out[f"{target}, all at once"] = _judged(f"{target}, all at once", target, figures)
    return out


def _judged(name: str, target: str, figures: dict[str, Any]) -> dict[str, Any]:
    judged = "saturated" not in name
    figures["target_p95_ms"] = TARGETS_MS[target]
    figures["met"] = figures["latency"]["p95_ms"] < TARGETS_MS[target] if judged else None
    print(name, figures, flush=True)
    return figures


def _plain(dsn: str) -> str:
    return dsn.replace("postgresql+asyncpg://", "postgresql://")


@contextlib.asynccontextmanager
async def database(keep: str | None) -> AsyncIterator[str]:
    """A new database dropped afterwards or, with ``keep``, that database, created if need
    be and kept (to seed once and run the scenarios many times while working on the service;
    the saves of one run are in the next)."""
    if keep is None:
        async with temporary_postgres_database("ct_bench_care_plans") as dsn:
            yield dsn
        return
    admin = await asyncpg.connect(admin_dsn())
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", keep):
            await admin.execute(f'CREATE DATABASE "{keep}"')
    finally:
        await admin.close()
    base, _, _ = admin_dsn().rpartition("/")
    yield sqlalchemy_url(f"{base}/{keep}")


async def seeded_before(dsn: str) -> Seeded | None:
    """What a kept database already holds, if anything."""
    conn = await asyncpg.connect(_plain(dsn))
    try:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM person ORDER BY id")]
        size = await conn.fetchval("SELECT length(document::text) FROM care_plan LIMIT 1")
    finally:
        await conn.close()
    return Seeded(ids, size) if ids else None


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
        async with database(args.keep_database) as dsn:
            engine = create_engine(dsn)
            await migrate(engine, DEFINITION.migrations)
            await engine.dispose()
            t = time.perf_counter()
            kept = await seeded_before(dsn)
            seeded = kept or await seed(_plain(dsn), shape)
            seeding_s = round(time.perf_counter() - t, 1)
            shape = replace(shape, persons=len(seeded.person_ids))
            print(f"seeded {shape} in {seeding_s}s", flush=True)
            broker = TansuBroker().start()
            try:
                async with service(dsn, key, broker.bootstrap_servers, args.workers) as running:
                    ids = [str(i) for i in seeded.person_ids]
                    headers = {"Authorization": f"Bearer {token}"}
                    figures = await scenarios(running, headers, ids, args)
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
        "seeding_seconds": None if kept else seeding_s,
        "workers": args.workers,
        "scenarios": figures,
        "notes": args.note,
    }


def _offered(f: dict[str, Any]) -> str:
    if f["model"] == "open loop":
        return f"{f['offered_per_s']}/s, open loop"
    if f["model"] == "editors":
        return f"{f['clients']} editors, pause {f['think_s']} s"
    return f"{f['clients']} clients, closed loop"


def _seeding(seconds: float | None) -> str:
    if seconds is None:
        return "The database was seeded beforehand (`--keep-database`), by this same code."
    return f"Seeding took {seconds} s."


def markdown(result: dict[str, Any]) -> str:
    s = result["shape"]
    lines = [
        f"# Care plans benchmark, {result['recorded_at'][:10]}",
        "",
        f"{s['persons']:,} persons, each plan {s['goals']} goals, {s['actions']} actions and "
        f"{s['versions']} versions (current document {result['plan_document_bytes']:,} bytes of "
        f"JSON); PostgreSQL {result['postgres']['server_version']}; the service as its own "
        f"process (`python -m care_plans`, {result['workers']} worker process(es)), clients "
        "over HTTP from another process.",
        "",
        "| scenario | load offered | requests/s | p50 ms | p95 ms | p99 ms | max ms "
        "| target p95 | met | service CPU ms/request |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, f in result["scenarios"].items():
        lat = f["latency"]
        met = "—" if f["met"] is None else ("yes" if f["met"] else "no")
        lines.append(
            f"| {name} | {_offered(f)} | {f['requests_per_s']} | {lat['p50_ms']} | "
            f"{lat['p95_ms']} | {lat['p99_ms']} | {lat['max_ms']} | < {f['target_p95_ms']} | "
            f"{met} | {f['service_cpu_ms']} |"
        )
    m = result["machine"]
    lines += [
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB, {m['os']}, Python "
        f"{m['python']}. Load average before {result['load_average_before']}, after "
        f"{result['load_average_after']}. {_seeding(result['seeding_seconds'])}",
        "",
        "How the load is offered (each latency counts from the moment the request was due, "
        "so waiting for the service counts):",
        "",
        "- **read**, **history**: open loop: requests arrive at random (Poisson) at the rate "
        "shown, whether or not earlier ones have been answered, as independent users' do.",
        "- **update**: the editors shown at once, each in a loop: read a random person's plan "
        "(not timed), pause (exponential, mean shown: the time a practitioner takes over the "
        "change, shorter than most real ones), then `PATCH` a merge patch of the actions with "
        "`If-Match`, timed from the end of the pause. The save writes the version row, the "
        "audit record and the outbox events in one transaction. 412s (two editors on one "
        "person) are counted, not timed.",
        "- **saturated** rows: closed loop, each client sending its next request as soon as "
        "its last is answered (updates without the pause): the most the service does per "
        "second, and the queueing that costs. Not what the targets are about; not judged.",
        "- **all at once** rows: the editors, the plan reads and the histories offered "
        "together for as long as the editors take, as on a working day: each judged against "
        "its own target.",
        "- **service CPU**: the service's processes' CPU time during the scenario, per request "
        "(for update, per save, with the editor's read before it; for the all-at-once rows, "
        "per request of any kind), from `/proc`: a guide that the machine's other load "
        "inflates far less than latency.",
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
