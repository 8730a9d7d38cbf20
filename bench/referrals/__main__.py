"""``python -m bench.referrals``: intake throughput and latency (JSON and FHIR) and the triage
queue's latency, against the referrals service running as its own process on PostgreSQL;
recorded in ``bench/results/``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from bench import machine
from bench.referrals import cpu
from bench.referrals.data import Synthetic
from bench.referrals.profile import summarise_cprofile, summarise_py_spy
from bench.referrals.report import markdown, verdicts, write
from bench.referrals.service import (
    Profiler,
    Service,
    counts,
    find_py_spy,
    running_service,
    sessions_opened,
    store_referrals,
    wait_published,
)
from bench.run import tansu_version
from bench.stats import lag_stats
from carethread.observability.logging import configure_logging
from carethread.settings import ServiceSettings
from carethread.testing.databases import postgres_available

RESULTS = Path(__file__).parent.parent / "results"
PHASES = ("json", "fhir", "queue")
LIBRARIES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "pydantic",
    "sqlalchemy",
    "asyncpg",
    "aiokafka",
    "fhir.resources",
    "pyjwt",
    "aiohttp",
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.referrals", description=__doc__)
    p.add_argument("--phases", default=",".join(PHASES), help="json,fhir,queue")
    p.add_argument("--clients", type=int, default=50, help="intake: concurrent clients")
    p.add_argument(
        "--client-processes", type=int, default=1, help="intake: load-generator processes"
    )
    p.add_argument("--warmup", type=float, default=5.0, help="intake: seconds before timing")
    p.add_argument("--duration", type=float, default=20.0, help="intake: seconds timed")
    p.add_argument(
        "--rate-json",
        type=float,
        default=300.0,
        help="intake latency: JSON referrals/s offered, open loop (0: skip)",
    )
    p.add_argument(
        "--rate-fhir",
        type=float,
        default=150.0,
        help="intake latency: FHIR Bundles/s offered, open loop (0: skip)",
    )
    p.add_argument("--rate-warmup", type=float, default=3.0, help="open loop: seconds")
    p.add_argument("--rate-duration", type=float, default=15.0, help="open loop: seconds timed")
    p.add_argument("--people", type=int, default=50_000, help="synthetic people referred")
    p.add_argument("--no-nhs-share", type=float, default=0.1, help="share with no NHS number")
    p.add_argument("--stored", type=int, default=100_000, help="queue: referrals stored")
    p.add_argument("--stored-days", type=int, default=365, help="queue: received over N days")
    p.add_argument("--queue-clients", type=int, default=4, help="queue: concurrent triagers")
    p.add_argument("--queue-warmup", type=float, default=3.0, help="queue: seconds")
    p.add_argument("--queue-duration", type=float, default=15.0, help="queue: seconds timed")
    p.add_argument("--pool-size", type=int, default=None, help="the service's database pool")
    p.add_argument(
        "--server-workers",
        type=int,
        default=1,
        help="server processes (REFERRALS_WORKERS)",
    )
    p.add_argument(
        "--database-socket",
        default=None,
        help="experiment: the service reaches PostgreSQL through its Unix socket in this "
        "directory instead of TCP",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--name", default=None, help="results file name (default DATE-referrals)")
    p.add_argument("--note", action="append", default=[], help="a line for the Notes section")
    p.add_argument("--no-record", action="store_true", help="print only; write no results")
    p.add_argument(
        "--profile", type=Path, default=None, help="run the service under cProfile; stats here"
    )
    p.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        help="run the service under py-spy (sampling); collapsed stacks and a summary here",
    )
    p.add_argument("--py-spy-bin", default=None, help="the py-spy executable (default: PATH)")
    p.add_argument("--py-spy-native", action="store_true", help="py-spy: C frames too")
    args = p.parse_args(argv)
    args.phase_list = [x for x in args.phases.split(",") if x]
    unknown = set(args.phase_list) - set(PHASES)
    if unknown:
        p.error(f"unknown phases {sorted(unknown)}; choose from {', '.join(PHASES)}")
    return args


async def _line(process: asyncio.subprocess.Process, wanted: str, timeout: float) -> None:
    assert process.stdout is not None
    async with asyncio.timeout(timeout):
        line = (await process.stdout.readline()).decode().strip()
    if line != wanted:
        raise RuntimeError(f"load generator said {line!r}, expected {wanted!r}")


def _tokens(service: Service, workdir: Path, kind: str, count: int, seed: int) -> Path:
    """One token per client: referrers at GP practices, or front-door triagers."""
    synthetic = Synthetic(seed)
    if kind == "queue":
        tokens = [
            service.token(sub=f"bench.triager.{i}", org="93C", roles=["triager"])
            for i in range(count)
        ]
    else:
        tokens = [
            service.token(
                sub=f"bench.referrer.{i}",
                org=synthetic.rng.choice(synthetic.practices),
                roles=["referrer"],
                name=f"Bench Referrer {i}",
            )
            for i in range(count)
        ]
    path = workdir / f"tokens-{kind}.json"
    path.write_text(json.dumps(tokens))
    return path


async def run_clients(
    service: Service,
    workdir: Path,
    kind: str,
    *,
    clients: int,
    processes: int,
    warmup: float,
    duration: float,
    seed: int,
    people: int,
    no_nhs_share: float,
    rate: float = 0.0,
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Start the load generators, let them go together, and measure the CPU used in the
    timed window; what each saw, and that CPU."""
    tokens = _tokens(service, workdir, kind, clients, seed)
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    children: list[asyncio.subprocess.Process] = []
    outs: list[Path] = []
    try:
        for i, share in enumerate(shares):
            out = workdir / f"{kind}-{i}.json"
            outs.append(out)
            children.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bench.referrals.client",
                    service.url,
                    kind,
                    f"--clients={share}",
                    f"--tokens={tokens}",
                    f"--warmup={warmup}",
                    f"--duration={duration}",
                    f"--seed={seed * 1000 + i}",
                    f"--people={people}",
                    f"--no-nhs-share={no_nhs_share}",
                    f"--rate={rate * share / clients}",
                    f"--out={out}",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        for child in children:
            await _line(child, "ready", 120)
        start = time.time() + 0.5
        for child in children:
            assert child.stdin is not None
            child.stdin.write(f"go {start}\n".encode())
            await child.stdin.drain()
        database = make_url(service.database_url).database or ""
        groups = {
            "service": service.pids(),
            "clients": [c.pid for c in children],
            "tansu": [service.tansu_pid],
        }
        await asyncio.sleep(max(start + warmup - time.time(), 0))
        before = cpu.snapshot(time.time(), groups, database)
        await asyncio.sleep(max(start + warmup + duration - time.time(), 0))
        after = cpu.snapshot(time.time(), groups, database)
        for child in children:
            await _line(child, "done", 180)
            await child.wait()
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()
    return [json.loads(o.read_text()) for o in outs], cpu.usage(before, after)


def _summary(outs: list[dict[str, Any]], duration: float) -> dict[str, Any]:
    timed = [tuple(t) for o in outs for t in o["timed"]]
    if not timed:
        samples = [s for o in outs for s in o["samples"]]
        raise RuntimeError(f"no request completed in the timed window; failures: {samples}")
    statuses: Counter[str] = Counter()
    for o in outs:
        statuses.update(o["statuses"])
    timed_ok = sum(1 for t in timed if t[2])
    return {
        "sent": sum(o["sent"] for o in outs),
        "ok_total": sum(o["ok"] for o in outs),
        "failed": sum(o["sent"] - o["ok"] for o in outs),
        "statuses": dict(statuses),
        "samples": [s for o in outs for s in o["samples"]][:5],
        "timed_ok": timed_ok,
        "latency": asdict(lag_stats([float(t[1]) for t in timed])),
        "client_cpu_seconds": round(sum(o["cpu_seconds"] for o in outs), 2),
        "_timed": timed,
        "_rate": round(timed_ok / duration, 1),
    }


TARGET_RATES = {"json": "rate_json", "fhir": "rate_fhir"}


async def intake(
    service: Service, workdir: Path, kind: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Throughput (closed loop: every client sends back to back), then latency at the
    target rate (open loop), each a run of its own."""
    result = await _intake_run(
        service,
        workdir,
        kind,
        args,
        rate=0.0,
        warmup=args.warmup,
        duration=args.duration,
        seed=args.seed + (0 if kind == "json" else 1),
    )
    offered = float(getattr(args, TARGET_RATES[kind]))
    if offered > 0:
        at_rate = await _intake_run(
            service,
            workdir,
            kind,
            args,
            rate=offered,
            warmup=args.rate_warmup,
            duration=args.rate_duration,
            seed=args.seed + (10 if kind == "json" else 11),
        )
        result["at_rate"] = {"offered_rate": offered, **at_rate}
        result["ok_total"] += at_rate["ok_total"]
    return result


async def _intake_run(
    service: Service,
    workdir: Path,
    kind: str,
    args: argparse.Namespace,
    *,
    rate: float,
    warmup: float,
    duration: float,
    seed: int,
) -> dict[str, Any]:
    sessions_before = await sessions_opened(service.database_url)
    outs, used = await run_clients(
        service,
        workdir,
        kind,
        clients=args.clients,
        processes=args.client_processes,
        warmup=warmup,
        duration=duration,
        seed=seed,
        people=args.people,
        no_nhs_share=args.no_nhs_share,
        rate=rate,
    )
    s = _summary(outs, duration)
    s.pop("_timed")
    achieved = s.pop("_rate")
    opened = await sessions_opened(service.database_url) - sessions_before
    # Whatever was due when: how many new referrals the service answered in the window.
    served = round(sum(o.get("answered_in_window", 0) for o in outs) / duration, 1)
    out: dict[str, Any] = {
        "referrals_per_s": achieved,
        "served_per_s": served,
        "warmup_s": warmup,
        "duration_s": duration,
        **s,
        "cpu": used,
        "cpu_ms_per_referral": _per_request(used, served),
        "database_connections_opened": opened,
    }
    if rate:
        out["not_sent"] = sum(o.get("not_sent", 0) for o in outs)
        out["behind_schedule_ms"] = max(o.get("behind_ms", 0.0) for o in outs)
    return out


def _per_request(used: dict[str, float], rate: float) -> dict[str, float]:
    """CPU milliseconds per request, from the share of a core each part used: unlike the
    rates, hardly changed by whatever else the machine was doing."""
    if not rate:
        return {}
    return {
        part: round(used[f"{part}_pct_of_one_core"] * 10 / rate, 2)
        for part in ("service", "postgres", "clients")
    }


async def queue(
    service: Service, workdir: Path, args: argparse.Namespace, stored: dict[str, Any]
) -> dict[str, Any]:
    outs, used = await run_clients(
        service,
        workdir,
        "queue",
        clients=args.queue_clients,
        processes=1,
        warmup=args.queue_warmup,
        duration=args.queue_duration,
        seed=args.seed + 2,
        people=args.people,
        no_nhs_share=args.no_nhs_share,
    )
    s = _summary(outs, args.queue_duration)
    timed = s.pop("_timed")
    rate = s.pop("_rate")
    by_kind: dict[str, list[float]] = defaultdict(list)
    for t in timed:
        by_kind[str(t[3])].append(float(t[1]))
    return {
        "stored_referrals": (await counts(service.database_url))["referrals"],
        "stored": stored,
        "clients": args.queue_clients,
        "duration_s": args.queue_duration,
        "queries": len(timed),
        "queries_per_s": rate,
        **s,
        "by_filter": {
            k: asdict(lag_stats(v)) for k, v in sorted(by_kind.items(), key=lambda kv: -len(kv[1]))
        },
        "cpu": used,
        "cpu_ms_per_query": _per_request(used, rate),
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    reason = await postgres_available()
    if reason:
        raise SystemExit(reason)
    profiler = Profiler()
    profiled: list[str] = []
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        profiler = Profiler(cprofile=(args.profile / "referrals.pstats").resolve())
        profiled.append("cProfile")
    if args.py_spy:
        spy = find_py_spy(args.py_spy_bin)
        if spy is None:
            raise SystemExit("py-spy is not on PATH: pass --py-spy-bin")
        args.py_spy.mkdir(parents=True, exist_ok=True)
        out = (args.py_spy / "referrals.py-spy.txt").resolve()
        profiler = Profiler(profiler.cprofile, spy, out, py_spy_native=args.py_spy_native)
        profiled.append("py-spy")
    load_before = machine.load_average()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ct-bench-referrals-") as tmp:
        workdir = Path(tmp)
        async with running_service(
            workdir,
            profiler=profiler,
            pool_size=args.pool_size,
            workers=args.server_workers,
            socket_dir=args.database_socket,
        ) as svc:
            created = 0
            for kind in ("json", "fhir"):
                if kind in args.phase_list:
                    results[kind] = await intake(svc, workdir, kind, args)
                    created += results[kind]["ok_total"]
                    print(f"{kind}: {_brief(results[kind])}", file=sys.stderr)
                    if "at_rate" in results[kind]:
                        print(
                            f"{kind} at rate: {_brief(results[kind]['at_rate'])}", file=sys.stderr
                        )
            if created:
                published = await wait_published(svc.database_url, timeout=120)
                found = await counts(svc.database_url)
                results["checks"] = {
                    "created": created,
                    "counts": found,
                    "published_after_s": published,
                    "ok": published is not None
                    and found["outbox_unpublished"] == 0
                    and found["referrals"]
                    == found["transitions"]
                    == found["outbox_referral_received"]
                    == created
                    and found["audit_records"] == found["outbox_audit_recorded"] == created,
                }
                print(f"checks: {results['checks']}", file=sys.stderr)
            if "queue" in args.phase_list:
                stored = await store_referrals(
                    svc.database_url,
                    args.stored,
                    seed=args.seed,
                    now=datetime.now(UTC),
                    days=args.stored_days,
                )
                print(f"stored: {stored}", file=sys.stderr)
                results["queue"] = await queue(svc, workdir, args, asdict(stored))
                print(f"queue: {_brief(results['queue'])}", file=sys.stderr)
    if args.profile:
        print(summarise_cprofile(args.profile / "referrals.pstats"), file=sys.stderr)
    if args.py_spy:
        summary = summarise_py_spy(args.py_spy / "referrals.py-spy.txt")
        (args.py_spy / "summary.txt").write_text(summary)
        print(summary, file=sys.stderr)
    defaults = ServiceSettings()
    return {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": machine.machine(),
        "load_before": load_before,
        "load_after": machine.load_average(),
        "libraries": _libraries(),
        "postgres": await machine.postgres_server(),
        "broker": {"tansu": await tansu_version(), "storage": "memory"},
        "settings": {
            "event_loop": _event_loop(),
            "server_workers": args.server_workers,
            "database_connection": "Unix socket" if args.database_socket else "TCP, 127.0.0.1",
            "database_pool_size": args.pool_size or defaults.database_pool_size,
            "clients": args.clients,
            "client_processes": args.client_processes,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "rate_json": args.rate_json,
            "rate_fhir": args.rate_fhir,
            "rate_warmup_s": args.rate_warmup,
            "rate_duration_s": args.rate_duration,
            "people": args.people,
            "no_nhs_share": args.no_nhs_share,
            "stored": args.stored,
            "stored_days": args.stored_days,
            "queue_clients": args.queue_clients,
            "queue_warmup_s": args.queue_warmup,
            "queue_duration_s": args.queue_duration,
            "seed": args.seed,
            "profiled": " + ".join(profiled) or None,
        },
        "results": results,
        "targets_met": verdicts(results),
        "notes": args.note,
    }


def _brief(r: dict[str, Any]) -> str:
    rate = r.get("referrals_per_s", r.get("queries_per_s"))
    lat = r["latency"]
    return (
        f"{rate}/s, p50 {lat['p50_ms']} p95 {lat['p95_ms']} p99 {lat['p99_ms']} ms, "
        f"failed {r['failed']}, cpu {r['cpu']}"
    )


def _libraries() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _event_loop() -> str:
    try:
        import httptools  # noqa: F401, PLC0415
        import uvloop  # noqa: F401, PLC0415
    except ImportError:
        return "asyncio event loop, h11"
    return "uvloop, httptools"


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    configure_logging("WARNING", json=False, service="bench")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    doc = asyncio.run(bench(args))
    if args.no_record:
        print(markdown(doc))
        return 0
    md, js = write(doc, RESULTS, args.name or f"{doc['date']}-referrals")
    print(f"recorded {md.relative_to(RESULTS.parent.parent)} and {js.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
