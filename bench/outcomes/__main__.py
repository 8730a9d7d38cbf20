"""``python -m bench.outcomes``: indicator breakdowns and incremental updates on PostgreSQL,
recorded in ``bench/results/``.

The issue's scale is 1,000,000 recorded measures and 2,000,000 platform events; their rows
are written with COPY (see ``data.py``). Two things are timed:

- **breakdown**: ``GET /api/v1/indicators/{id}?by=imd_quintile,sex&period=FY2026`` over HTTP
  against the service app (in process, its own engine and pool), one request at a time,
  rotating through the key indicators. Target: p95 < 300 ms.
- **incremental update**: new front-door events (person registered, referral received,
  triaged, started) handed to the service's own consumer (inbox, handlers, one transaction
  per run of a poll, 500 a poll) on top of the seeded tables. Target: >= 2,000 events/s.
  The broker is left out here: its throughput is the event bus benchmark's.

The seeded rows take minutes to write; with ``--database NAME`` they are kept in that
database (seeded the first time) and each run works on a copy of it, so runs start alike.
The indicator tallies are built from the seeded units before the service starts (as the
service does itself when it starts on units it has no tallies for); the time is recorded.
CPU is this process's (the service's app, handlers and in-process client), per request
and per event, so runs on a shared machine can be compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import machine
from bench.machine import postgres_cpu_s
from bench.outcomes.data import Scale, Seeded, seed
from bench.stats import LagStats, lag_stats
from carethread.auth import mint_dev_token
from carethread.db import UnitOfWork, create_engine, migrate, session_factory
from carethread.events import CloudEvent, new_event
from carethread.events.referrals import (
    Destination,
    PersonDetails,
    PersonRegisteredV1,
    PersonSummary,
    ReferralReceivedV1,
    ReferralStatusChangedV1,
    ReferralTriagedV1,
)
from carethread.messaging import IncomingMessage, InMemoryBroker
from carethread.service import ServiceRuntime
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import running
from carethread.testing.databases import (
    admin_dsn,
    postgres_available,
    sqlalchemy_url,
    temporary_postgres_database,
)
from outcomes.app import DEFINITION, create_app
from outcomes.settings import OutcomesSettings
from outcomes.store import tallies

RESULTS = Path(__file__).parent.parent / "results"
INDICATORS = (
    "wellbeing-improved-after-social-prescribing",
    "social-prescription-uptake",
    "triaged-within-target",
    "anxiety-reliable-improvement",
)
TARGET_P95_MS = 300.0
TARGET_EVENTS_PER_S = 2_000.0
POLL = 500


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.outcomes", description=__doc__)
    p.add_argument("--measures", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=2_000_000)
    p.add_argument("--people", type=int, default=125_000)
    p.add_argument("--requests", type=int, default=200, help="timed breakdown requests")
    p.add_argument("--update-events", type=int, default=20_000, help="events for the update")
    p.add_argument(
        "--database", default=None,
        help="keep the seeded rows in this database (seeded if missing) and run on a copy",
    )  # fmt: skip
    p.add_argument("--name", default=None, help="results file name (default DATE-outcomes)")
    p.add_argument("--note", action="append", default=[], help="a line for the Notes section")
    p.add_argument("--no-record", action="store_true", help="print only; write no results")
    return p.parse_args(argv)


def front_door_events(people: int) -> list[CloudEvent]:
    """Four events per new person, as the front door publishes them, in their order."""
    out = []
    at = datetime(2026, 10, 1, tzinfo=UTC)
    for n in range(people):
        pid, rid = uuid.uuid4(), uuid.uuid4()
        details = PersonDetails(
            given_name="Bench", family_name="Synthetic", birth_date=date(1950, 1, 1),
            sex="female", neighbourhood="U02795", borough="Islington", imd_quintile=1 + n % 5,
            gp_practice_code="F83004", ethnicity_code="A",
        )  # fmt: skip
        summary = PersonSummary(given_name="Bench", family_name="Synthetic", imd_quintile=1 + n % 5)
        for sequence, data in enumerate(
            (
                PersonRegisteredV1(
                    person_id=pid, person=details, referral_id=rid, registered_at=at
                ),
                ReferralReceivedV1(
                    referral_id=rid, person_id=pid, has_nhs_number=False, person=summary,
                    source="gp", urgency="routine", reason_codes=["isolation"],
                    neighbourhood="U02795", referrer_org="F83004", received_at=at,
                    status="received",
                ),
                ReferralTriagedV1(
                    referral_id=rid, person_id=pid, decision="route", status="routed",
                    destination=Destination(kind="service", id="svc"), decided_by="t",
                    decided_by_org="93C", triaged_at=at + timedelta(hours=2), breached_sla=False,
                ),
                ReferralStatusChangedV1(
                    referral_id=rid, person_id=pid, action="start", from_status="routed",
                    status="in_progress", changed_by="lw", changed_at=at + timedelta(days=2),
                ),
            )
        ):  # fmt: skip
            out.append(new_event(data, subject=str(rid), person_id=pid, sequence=max(sequence, 1)))
    return out


def messages(events: list[CloudEvent]) -> list[IncomingMessage]:
    return [
        IncomingMessage(
            "bench.carethread.referrals.v1", 0, i, e.personid, e.to_json_bytes(),
            (("ce_type", e.type.encode()),),
        )
        for i, e in enumerate(events)
    ]  # fmt: skip


async def breakdowns(
    client: httpx.AsyncClient, requests: int, database: str
) -> tuple[LagStats, dict[str, Any], dict[str, float]]:
    """Latencies, the overall figures, and the CPU ms per timed request of this process
    and of the database's backends."""
    latencies, sample = [], {}
    cpu = pg = 0.0
    for i in range(requests + 10):
        if i == 10:
            cpu, pg = time.process_time(), postgres_cpu_s(database)
        indicator = INDICATORS[i % len(INDICATORS)]
        t = time.perf_counter()
        r = await client.get(
            f"/api/v1/indicators/{indicator}",
            params={"by": "imd_quintile,sex", "period": "FY2026"},
        )
        took = time.perf_counter() - t
        assert r.status_code == 200, r.text
        if i >= 10:  # the first ten warm the pool and the caches
            latencies.append(took)
        sample[indicator] = r.json()["overall"]
    cpu_ms = {
        "process": round((time.process_time() - cpu) * 1000 / requests, 2),
        "postgres": round((postgres_cpu_s(database) - pg) * 1000 / requests, 2),
    }
    return lag_stats(latencies), sample, cpu_ms


async def incremental(runtime: ServiceRuntime, count: int, database: str) -> dict[str, Any]:
    assert runtime.consumer is not None
    batch = messages(front_door_events(max(1, count // 4)))
    started, cpu, pg = time.perf_counter(), time.process_time(), postgres_cpu_s(database)
    for i in range(0, len(batch), POLL):
        await runtime.consumer.handle_batch(batch[i : i + POLL])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    pg = postgres_cpu_s(database) - pg
    return {
        "events": len(batch),
        "seconds": round(elapsed, 2),
        "events_per_s": round(len(batch) / elapsed, 1),
        "cpu_us_per_event": round(cpu * 1e6 / len(batch), 1),
        "postgres_cpu_us_per_event": round(pg * 1e6 / len(batch), 1),
        "applied": runtime.consumer.applied,
    }


async def _admin(sql: str) -> None:
    admin = await asyncpg.connect(admin_dsn())
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


def _url(name: str) -> str:
    base, _, _ = admin_dsn().rpartition("/")
    return sqlalchemy_url(f"{base}/{name}")


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _seeded_count(url: str) -> Seeded | None:
    """What a kept database holds, or None if it is missing or was never fully seeded."""
    try:
        conn = await asyncpg.connect(_dsn(url))
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        done = await conn.fetchval("SELECT obj_description('measure'::regclass, 'pg_class')")
        if not done:
            return None
        return Seeded(**json.loads(done))
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()


async def _seed_into(url: str, scale: Scale) -> tuple[Seeded, float]:
    engine = create_engine(url)
    await migrate(engine, DEFINITION.migrations)
    await engine.dispose()
    t = time.perf_counter()
    seeded = await seed(_dsn(url), scale)
    took = round(time.perf_counter() - t, 1)
    conn = await asyncpg.connect(_dsn(url))
    try:  # marks the database as fully seeded, with what it holds
        await conn.execute(f"COMMENT ON TABLE measure IS '{json.dumps(asdict(seeded))}'")
    finally:
        await conn.close()
    return seeded, took


@asynccontextmanager
async def seeded_database(
    keep: str | None, scale: Scale
) -> AsyncIterator[tuple[str, Seeded, float | None]]:
    """A database with the seeded rows (migrated to the latest schema), the rows, and
    the seconds seeding took (None: copied from the kept database)."""
    if keep is None:
        async with temporary_postgres_database("ct_bench_outcomes") as url:
            seeded, took = await _seed_into(url, scale)
            yield url, seeded, took
        return
    kept_url, took_s = _url(keep), None
    seeded_before = await _seeded_count(kept_url)
    if seeded_before is None or (seeded_before.measures, seeded_before.people) != (
        scale.measures,
        scale.people,
    ):
        await _admin(f'DROP DATABASE IF EXISTS "{keep}" WITH (FORCE)')
        await _admin(f'CREATE DATABASE "{keep}"')
        seeded_before, took_s = await _seed_into(kept_url, scale)
    copy = f"{keep}_run"
    await _admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{copy}" TEMPLATE "{keep}"')
    try:
        url = _url(copy)
        engine = create_engine(url)
        await migrate(engine, DEFINITION.migrations)
        await engine.dispose()
        yield url, seeded_before, took_s
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


async def build_tallies(url: str) -> float:
    """The indicator tallies counted from the seeded units (as the service does when it
    starts without them), then vacuumed and analysed as autovacuum would."""
    engine = create_engine(url)
    t = time.perf_counter()
    async with UnitOfWork(session_factory(engine)) as uow:
        await uow.session.run_sync(lambda s: tallies.rebuild(s, tallies.stale(s)))
        await uow.commit()
    took = round(time.perf_counter() - t, 1)
    await engine.dispose()
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return took


async def run(args: argparse.Namespace) -> dict[str, Any]:
    if reason := await postgres_available():
        raise SystemExit(f"PostgreSQL is needed: {reason}")
    scale = Scale(measures=args.measures, events=args.events, people=args.people)
    load_before = machine.load_average()
    async with seeded_database(args.database, scale) as (url, seeded, seed_s):
        tallies_s = await build_tallies(url)
        keys = Path(tempfile.mkdtemp(prefix="ct-bench-outcomes-"))
        auth = AuthSettings(dev_key_path=keys / "dev-signing-key.pem")
        settings = OutcomesSettings(
            database_url=url, auth=auth, kafka=KafkaSettings(topic_prefix="bench."),
            log_level="WARNING", log_json=False,
        )  # fmt: skip
        app = create_app(settings, broker=InMemoryBroker())
        token = mint_dev_token(auth, sub="bench", org="93C", roles=["analyst"])
        async with running(app) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            client.timeout = httpx.Timeout(60)
            database = url.rsplit("/", 1)[1]
            stats, sample, cpu_ms = await breakdowns(client, args.requests, database)
            update = await incremental(app.state.runtime, args.update_events, database)
            after, _, _ = await breakdowns(client, max(20, args.requests // 5), database)
        shutil.rmtree(keys, ignore_errors=True)
    return {
        "benchmark": "outcomes",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine.machine(),
        "postgres": await machine.postgres_server(),
        "libraries": machine.libraries(),
        "load_average_before": load_before,
        "load_average_after": machine.load_average(),
        "scale": asdict(scale),
        "seeded": asdict(seeded),
        "seed_seconds": seed_s,
        "tallies_seconds": tallies_s,
        "breakdown": asdict(stats),
        "breakdown_cpu_ms_per_request": cpu_ms,
        "breakdown_after_update": asdict(after),
        "incremental_update": update,
        "sample_overall": sample,
        "targets": {
            "breakdown_p95_ms": TARGET_P95_MS,
            "breakdown_met": stats.p95_ms < TARGET_P95_MS,
            "events_per_s": TARGET_EVENTS_PER_S,
            "update_met": update["events_per_s"] >= TARGET_EVENTS_PER_S,
        },
        "notes": args.note,
    }


def report(result: dict[str, Any]) -> str:
    b, u, t, s = (result["breakdown"], result["incremental_update"], result["targets"],
                  result["seeded"])  # fmt: skip
    m = result["machine"]
    lines = [
        f"# Outcomes benchmark — {result['recorded_at']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB, {m['os']}; "
        f"PostgreSQL {result['postgres']['server_version']}. Load average before "
        f"{result['load_average_before']}, after {result['load_average_after']} (shared machine).",
        "",
        f"Data: {s['measures']:,} measures ({s['measure_changes']:,} pre/post change rows) for "
        f"{s['people']:,} people; {s['referrals']:,} referrals standing for {s['events']:,} "
        f"platform events; "
        + (
            f"seeded with COPY in {result['seed_seconds']} s"
            if result["seed_seconds"] is not None
            else "copied from the database seeded (with COPY) for earlier runs"
        )
        + f"; indicator tallies built from them in {result['tallies_seconds']} s.",
        "",
        "| what | figure | target | met |",
        "|---|---|---|---|",
        f"| indicator by imd_quintile,sex for FY2026, p50 / p95 / p99 | {b['p50_ms']} / "
        f"{b['p95_ms']} / {b['p99_ms']} ms ({b['count']} requests; "
        f"CPU each: {result['breakdown_cpu_ms_per_request']['process']} ms this process, "
        f"{result['breakdown_cpu_ms_per_request']['postgres']} ms PostgreSQL) "
        f"| p95 < {t['breakdown_p95_ms']:.0f} ms | {'yes' if t['breakdown_met'] else 'no'} |",
        f"| incremental update (consumer, inbox, handlers) | {u['events_per_s']:,} events/s "
        f"({u['events']:,} events in {u['seconds']} s; CPU each: {u['cpu_us_per_event']} µs "
        f"this process, {u['postgres_cpu_us_per_event']} µs PostgreSQL) "
        f"| >= {t['events_per_s']:,.0f} events/s "
        f"| {'yes' if t['update_met'] else 'no'} |",
        "| breakdown again after the update, p95 "
        f"| {result['breakdown_after_update']['p95_ms']} ms | | |",
        "",
    ]
    if result["notes"]:
        lines += ["## Notes", "", *[f"- {n}" for n in result["notes"]], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    result = asyncio.run(run(args))
    text = report(result)
    print(text)
    if not args.no_record:
        name = args.name or f"{datetime.now(UTC).date().isoformat()}-outcomes"
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(text)


if __name__ == "__main__":
    main()
