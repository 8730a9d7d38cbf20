"""``python -m bench``: run the event bus benchmarks and record them in ``bench/results/``."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import inspect
import logging
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import machine
from bench.pipeline import BACKENDS, consumer_poll_timeout_ms, kafka_settings, service_default
from bench.report import verdicts, write
from bench.run import lag, tansu_version, throughput
from carethread.messaging import EventConsumer
from carethread.observability.logging import configure_logging
from carethread.testing.apps import TANSU_CLIENT
from carethread.testing.databases import postgres_available

RESULTS = Path(__file__).parent / "results"


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--backends", default=",".join(BACKENDS), help="sqlite,postgres")
    p.add_argument("--scenarios", default="throughput,lag", help="throughput,lag")
    p.add_argument("--events", type=int, default=20_000, help="throughput: events written")
    p.add_argument("--transaction-size", type=int, default=50, help="throughput: per commit")
    p.add_argument("--writers", type=int, default=1, help="throughput: concurrent writers")
    p.add_argument("--rate", type=int, default=500, help="lag: events/s offered")
    p.add_argument("--duration", type=float, default=20.0, help="lag: seconds")
    p.add_argument("--lag-transaction-size", type=int, default=1, help="lag: per commit")
    p.add_argument("--warmup", type=int, default=200, help="events through before timing")
    p.add_argument("--name", default=None, help="results file name (default DATE-event-bus)")
    p.add_argument("--note", action="append", default=[], help="a line for the Notes section")
    p.add_argument("--no-record", action="store_true", help="print only; write no results")
    p.add_argument("--profile", type=Path, default=None, help="write cProfile stats here")
    return p.parse_args(argv)


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    backends = [b for b in args.backends.split(",") if b]
    scenarios = {s for s in args.scenarios.split(",") if s}
    if "postgres" in backends:
        reason = await postgres_available()
        if reason:
            raise SystemExit(reason)
    load_before = machine.load_average()
    results: dict[str, dict[str, Any]] = {}
    for backend in backends:
        results[backend] = {}
        if "throughput" in scenarios:
            t = await throughput(
                backend,
                events=args.events,
                transaction_size=args.transaction_size,
                writers=args.writers,
                warmup=args.warmup,
                profile_dir=args.profile,
            )
            results[backend]["throughput"] = asdict(t)
            print(f"{backend} throughput: {t}", file=sys.stderr)
        if "lag" in scenarios:
            lg = await lag(
                backend,
                rate=args.rate,
                duration=args.duration,
                transaction_size=args.lag_transaction_size,
                warmup=args.warmup,
                profile_dir=args.profile,
            )
            results[backend]["lag"] = asdict(lg)
            print(f"{backend} lag: {lg}", file=sys.stderr)
    kafka = kafka_settings("127.0.0.1:0", "")
    max_records = inspect.signature(EventConsumer.__init__).parameters["max_records"].default
    return {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": machine.machine(),
        "load_before": load_before,
        "load_after": machine.load_average(),
        "libraries": machine.libraries(),
        "postgres": await machine.postgres_server() if "postgres" in backends else None,
        "broker": {"tansu": await tansu_version(), "storage": "memory"},
        "settings": {
            "kafka": {"partitions": kafka.partitions},
            "kafka_client": dict(TANSU_CLIENT),
            "relay_batch_size": service_default("relay_batch_size"),
            "relay_poll_interval_ms": service_default("relay_poll_interval_ms"),
            "relay_linger_ms": service_default("relay_linger_ms"),
            "consumer_poll_timeout_ms": consumer_poll_timeout_ms(kafka),
            "consumer_max_records": max_records,
        },
        "parameters": {
            "events": args.events,
            "transaction_size": args.transaction_size,
            "writers": args.writers,
            "rate": args.rate,
            "duration_s": args.duration,
            "lag_transaction_size": args.lag_transaction_size,
            "warmup": args.warmup,
        },
        "results": results,
        "targets_met": verdicts(results),
        "notes": args.note,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    configure_logging("WARNING", json=False, service="bench")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        with cProfile.Profile() as profile:
            doc = asyncio.run(bench(args))
        profile.dump_stats(args.profile / "producer.pstats")
    else:
        doc = asyncio.run(bench(args))
    if args.no_record:
        from bench.report import markdown  # noqa: PLC0415

        print(markdown(doc))
        return 0
    md, js = write(doc, RESULTS, args.name or f"{doc['date']}-event-bus")
    print(f"recorded {md.relative_to(RESULTS.parent.parent)} and {js.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
