"""``python -m bench.directory``: ORUK import throughput, then search latency (sequential)
and throughput (concurrent clients) over a directory of N services, on SQLite and/or
PostgreSQL; recorded in ``bench/results/``.

The directory app runs in this process (its lifespan: migrations, relay on an in-memory
broker) and is called as ASGI (``asgi.get``), so the figures include routing, validation and
serialisation but no network."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select, text
from starlette.types import ASGIApp

from bench import machine
from bench.directory import asgi
from bench.directory.data import pages, services
from bench.directory.load import bulk_load
from bench.stats import lag_stats
from carethread.auth import Principal
from carethread.messaging import InMemoryBroker
from carethread.observability.logging import configure_logging
from carethread.reference import load_geography
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import running
from carethread.testing.databases import (
    admin_dsn,
    postgres_available,
    sqlalchemy_url,
    temporary_postgres_database,
)
from directory import importing
from directory.app import create_app
from directory.settings import DirectorySettings
from directory.store.tables import ServiceRow

RESULTS = Path(__file__).parent.parent / "results"
TARGETS: dict[str, Any] = {
    "postgres": {"p95_ms": 50.0, "searches_per_s": 200.0, "services": 100_000},
    "sqlite": {"p95_ms": 50.0, "services": 20_000},
    "import_per_s": 1000.0,
}
WORDS = [
    "debt advice", "food bank", "councelling", "walking group", "befriending", "carers",
    "housing", "english classes", "lonely", "benefits", "lunch club", "alcohol", "garden",
]  # fmt: skip
LANGUAGES = ["en", "en", "en", "tr", "so", "bn", "pl"]


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.directory", description=__doc__)
    p.add_argument("--backends", default="postgres,sqlite")
    p.add_argument("--postgres-services", type=int, default=100_000)
    p.add_argument("--sqlite-services", type=int, default=20_000)
    p.add_argument("--per-page", type=int, default=200, help="import: services per ORUK page")
    p.add_argument("--import-services", type=int, default=2000, help="import: services timed")
    p.add_argument("--searches", type=int, default=500, help="sequential searches timed")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    p.add_argument("--duration", type=float, default=15.0, help="concurrent phase, seconds")
    p.add_argument(
        "--keep-database",
        default=None,
        help="PostgreSQL: load the directory into this database once and keep it; a later run "
        "searches it as loaded and times the import on a fresh database",
    )
    p.add_argument("--name", default=None)
    p.add_argument("--no-record", action="store_true")
    return p.parse_args(argv)


@asynccontextmanager
async def database(backend: str, tmp: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / 'directory.db'}"
        return
    async with temporary_postgres_database("ct_bench_directory") as url:
        yield url


async def kept_database(name: str) -> tuple[str, bool]:
    """The kept database's URL, and whether it was there already (else it is created)."""
    admin = await asyncpg.connect(admin_dsn())
    try:
        exists = bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = admin_dsn().rpartition("/")
    return sqlalchemy_url(f"{base}/{name}"), exists


SEARCH = "/api/v1/services/search"


@asynccontextmanager
async def serving(url: str, tmp: Path) -> AsyncIterator[tuple[ASGIApp, Any]]:
    """The directory app on ``url`` (its lifespan run), and its runtime."""
    settings = DirectorySettings(
        database_url=url,
        auth=AuthSettings(dev_key_path=tmp / "key.pem"),
        kafka=KafkaSettings(topic_prefix="bench."),
        log_json=False,
        log_level="WARNING",
    )
    app = create_app(settings, broker=InMemoryBroker())
    async with running(app):
        yield app, app.state.runtime


async def load(app_runtime: Any, count: int, per_page: int) -> dict[str, Any]:
    curator = Principal(sub="bench", roles=frozenset({"curator"}))
    now = datetime.now(UTC)
    feed = list(pages(count, per_page))  # the feed is made before the clock starts
    started = time.perf_counter()
    imported = 0
    rejected = 0
    for number, page in enumerate(feed, start=1):
        report = await importing.import_page(app_runtime.uow, number, page, curator, now=now)
        imported += report.published + report.updated + report.unchanged
        rejected += len(report.rejected) + (report.status == "rejected")
    elapsed = time.perf_counter() - started
    return {
        "services": imported,
        "rejected": rejected,
        "seconds": round(elapsed, 1),
        "services_per_s": round(imported / elapsed, 1),
    }


def query(rng: random.Random, postcodes: list[str]) -> dict[str, Any]:
    """Text + three filters + proximity: what a prescriber asks."""
    return {
        "q": rng.choice(WORDS),
        "age": rng.randint(18, 85),
        "language": rng.choice(LANGUAGES),
        "accepting": "true",
        "postcode": rng.choice(postcodes),
        "radius_km": rng.choice([2, 3, 5]),
        "per_page": 20,
    }


async def sequential(app: ASGIApp, n: int, postcodes: list[str]) -> dict[str, Any]:
    rng = random.Random(1)
    timings, totals = [], []
    for _ in range(n):
        params = query(rng, postcodes)
        started = time.perf_counter()
        status, page = await asgi.get(app, SEARCH, params)
        timings.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"search answered {status}: {page}")
        totals.append(page["total"])
    stats = lag_stats(timings)
    return {
        "searches": n,
        "latency_ms": {
            "p50": stats.p50_ms,
            "p95": stats.p95_ms,
            "p99": stats.p99_ms,
            "max": stats.max_ms,
        },
        "mean_results": round(sum(totals) / len(totals), 1),
        "empty_share": round(sum(t == 0 for t in totals) / len(totals), 3),
    }


async def concurrent(
    app: ASGIApp, clients: int, duration: float, postcodes: list[str]
) -> dict[str, Any]:
    deadline = time.perf_counter() + duration
    done: list[float] = []
    failed = 0

    async def one(seed: int) -> None:
        nonlocal failed
        rng = random.Random(seed)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = await asgi.get(app, SEARCH, query(rng, postcodes))
            if status != 200:
                failed += 1
            done.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    stats = lag_stats(done)
    return {
        "clients": clients,
        "searches": len(done),
        "failed": failed,
        "searches_per_s": round(len(done) / elapsed, 1),
        "latency_ms": {"p50": stats.p50_ms, "p95": stats.p95_ms, "p99": stats.p99_ms},
    }


async def fill(runtime: Any, args: argparse.Namespace, count: int) -> dict[str, Any]:
    """Import the first services (timed), write the rest in batches, gather statistics."""
    imported = await load(runtime, args.import_services, args.per_page)
    rest = max(count - args.import_services, 0)
    started = time.perf_counter()
    await bulk_load(runtime, services(rest, start=args.import_services))
    bulk_seconds = round(time.perf_counter() - started, 1)
    # Fresh tables have no statistics and no visibility map yet (autovacuum would see to
    # both later, but it is off on the benchmark's server): a planner that guesses one row
    # per filter picks nested loops over everything, and index-only scans visit the heap.
    async with runtime.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # The search rows in the order of their grid cells, as directory_0009 leaves an
            # existing directory and as an operator re-clusters one after a bulk load.
            await autocommit.execute(text("CLUSTER service_search"))
        await autocommit.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    return {"import": imported, "bulk_load_seconds": bulk_seconds}


async def searches(
    app: ASGIApp, runtime: Any, backend: str, args: argparse.Namespace
) -> dict[str, Any]:
    postcodes = sorted(load_geography().postcodes)
    async with runtime.uow() as uow:
        stored = await uow.session.scalar(select(func.count()).select_from(ServiceRow))
    await asgi.get(app, SEARCH, {"q": "warm up"})
    latency = await sequential(app, args.searches, postcodes)
    throughput = (
        await concurrent(app, args.concurrency, args.duration, postcodes)
        if backend == "postgres"
        else None
    )
    return {"stored_services": stored, "sequential": latency, "concurrent": throughput}


async def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    count = args.postgres_services if backend == "postgres" else args.sqlite_services
    keep = args.keep_database if backend == "postgres" else None
    with tempfile.TemporaryDirectory() as tmp:
        if keep is None:
            async with database(backend, Path(tmp)) as url, serving(url, Path(tmp)) as served:
                filled = await fill(served[1], args, count)
                return filled | await searches(*served, backend, args)
        url, loaded = await kept_database(keep)
        if not loaded:
            async with serving(url, Path(tmp)) as served:
                filled = await fill(served[1], args, count)
                return filled | await searches(*served, backend, args) | {"kept": keep}
        # Loaded by an earlier run: the import is timed on a fresh database instead.
        async with database(backend, Path(tmp)) as fresh, serving(fresh, Path(tmp)) as served:
            imported = await load(served[1], args.import_services, args.per_page)
        async with serving(url, Path(tmp)) as served:
            found = await searches(*served, backend, args)
        return {"import": imported, "bulk_load_seconds": None, "kept": keep} | found


def verdicts(results: dict[str, Any]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for backend, r in results.items():
        target = TARGETS[backend]
        enough = r["stored_services"] >= target["services"]
        out[f"{backend}_p95"] = enough and r["sequential"]["latency_ms"]["p95"] < target["p95_ms"]
        if r["concurrent"] is not None:
            out[f"{backend}_searches_per_s"] = (
                enough
                and r["concurrent"]["failed"] == 0
                and r["concurrent"]["searches_per_s"] >= target["searches_per_s"]
            )
        out[f"{backend}_import"] = r["import"]["services_per_s"] >= TARGETS["import_per_s"]
    return out


def _row(backend: str, r: dict[str, Any], verdicts: dict[str, bool]) -> str:
    s = r["sequential"]["latency_ms"]
    c = r["concurrent"]
    rate = f"{c['searches_per_s']} ({c['clients']} clients)" if c else "—"
    met = ", ".join(
        f"{k}: {'met' if ok else '**missed**'}"
        for k, ok in verdicts.items()
        if k.startswith(backend)
    )
    return (
        f"| {backend} | {r['stored_services']:,} | {r['import']['services_per_s']} "
        f"| {s['p50']} / {s['p95']} / {s['p99']} | {rate} | {met} |"
    )


def markdown(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    lines = [
        f"# Directory benchmark, {doc['date']}",
        "",
        f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('ram_gib')} GiB; "
        f"load average before {doc['load_before']}, after {doc['load_after']}.",
        "",
        "| backend | services | import services/s | search p50 / p95 / p99 ms "
        "| searches/s | targets |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_row(b, r, doc["verdicts"]) for b, r in doc["results"].items()]
    lines += [
        "",
        "Each search: a phrase from a prescriber's list (one misspelt), age, language, "
        "accepting, a random NCL postcode with a 2-5 km radius, 20 per page. Import: ORUK 3.0 "
        "pages through the importer (one transaction per page).",
        "",
    ]
    kept = {b: r["kept"] for b, r in doc["results"].items() if r.get("kept")}
    for backend, name in kept.items():
        loaded = doc["results"][backend]["bulk_load_seconds"] is None
        lines += [
            f"{backend}: the directory was "
            + (
                f"loaded earlier into `{name}` (by this benchmark's import and batch loader) "
                "and searched as it was; the import was timed on a fresh database."
                if loaded
                else f"loaded into `{name}` and kept for later runs."
            ),
            "",
        ]
    return "\n".join(lines) + "\n"


async def main(args: argparse.Namespace) -> None:
    configure_logging("WARNING", json=False, service="bench")
    backends = [b for b in args.backends.split(",") if b]
    if "postgres" in backends and (reason := await postgres_available()):
        raise SystemExit(reason)
    load_before = machine.load_average()
    results = {b: await run_backend(b, args) for b in backends}
    doc = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": machine.machine(),
        "load_before": load_before,
        "load_after": machine.load_average(),
        "arguments": vars(args),
        "targets": TARGETS,
        "results": results,
        "verdicts": verdicts(results),
    }
    print(json.dumps(doc["results"], indent=2))
    print(json.dumps(doc["verdicts"], indent=2))
    if not args.no_record:
        name = args.name or f"{doc['date']}-directory"
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
        (RESULTS / f"{name}.md").write_text(markdown(doc))


if __name__ == "__main__":
    asyncio.run(main(parse(None)))
