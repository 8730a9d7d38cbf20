"""The recorded results: a markdown page and a JSON file of the same run, named by date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

THROUGHPUT_TARGET = 2000.0  # events/s sustained
LAG_P99_TARGET_MS = 250.0  # at the offered rate below
LAG_RATE = 500
ACHIEVED_SHARE = 0.95  # the offered load counts as offered if this share of it was written

NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def verdicts(results: dict[str, Any]) -> dict[str, dict[str, bool]]:
    out: dict[str, dict[str, bool]] = {}
    for backend, r in results.items():
        v: dict[str, bool] = {}
        if "throughput" in r:
            v["throughput"] = r["throughput"]["events_per_s"] >= THROUGHPUT_TARGET
        if "lag" in r:
            lag = r["lag"]
            v["lag"] = (
                lag["offered_rate"] >= LAG_RATE
                and lag["achieved_rate"] >= ACHIEVED_SHARE * lag["offered_rate"]
                and lag["lag"]["p99_ms"] < LAG_P99_TARGET_MS
            )
        out[backend] = v
    return out


def _yes(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def markdown(doc: dict[str, Any]) -> str:
    m, results, ok = doc["machine"], doc["results"], doc["targets_met"]
    backends = list(results)
    head = "| | " + " | ".join(NAMES[b] for b in backends) + " |"
    rule = "|---|" + "---:|" * len(backends)

    def row(label: str, get: Any) -> str:
        cells = []
        for b in backends:
            try:
                cells.append(str(get(results[b])))
            except KeyError:
                cells.append("—")
        return f"| {label} | " + " | ".join(cells) + " |"

    p = doc["parameters"]
    s = doc["settings"]

    def tp(r: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = r["throughput"]
        return out

    def stage(r: dict[str, Any], name: str) -> str:
        return "{p50_ms} / {p99_ms}".format(**r["lag"]["stages"][name])

    lines = [
        f"# Event bus benchmark, {doc['date']}",
        "",
        "Outbox → relay → broker → consumer → inbox, with the library's own components: "
        "`OutboxRelay` and `KafkaBroker` (aiokafka) in the producing process, "
        "`EventConsumer` with its inbox in a second process with a database of its own, "
        "a Tansu broker started for each scenario. Produced by `make bench`; "
        "see `bench/README.md` for what is measured and how.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram_gib']} GiB",
        f"- OS: {m['os']}; Python {m['python']}",
        f"- Load average (1, 5, 15 min) before: {doc['load_before']}, after: {doc['load_after']}",
        "- Libraries: " + ", ".join(f"{k} {v}" for k, v in doc["libraries"].items()),
    ]
    if doc.get("postgres"):
        pg = doc["postgres"]
        lines.append(
            f"- PostgreSQL {pg['server_version']} (fsync={pg['fsync']}, "
            f"synchronous_commit={pg['synchronous_commit']}, "
            f"shared_buffers={pg['shared_buffers']}), on the same machine"
        )
    lines += [
        "",
        "## Broker and client settings",
        "",
        f"- Broker: Tansu {doc['broker']['tansu']}, memory storage, "
        f"{s['kafka']['partitions']} partitions per topic, one broker",
        "- Client (`KafkaSettings`, the Tansu values `carethread dev` and the tests use): "
        + ", ".join(f"`{k}={v}`" for k, v in s["kafka_client"].items()),
        f"- Relay: batch size {s['relay_batch_size']}, poll interval "
        f"{s['relay_poll_interval_ms']} ms (woken on commit), linger "
        f"{s.get('relay_linger_ms', 0)} ms",
        f"- Consumer: poll timeout {s['consumer_poll_timeout_ms']} ms, up to "
        f"{s['consumer_max_records']} records per poll",
        "",
        "## Results",
        "",
        f"Throughput: {p['events']} events written by {p['writers']} writer(s) in "
        f"transactions of {p['transaction_size']}, timed from the first producer commit to the "
        f"last inbox commit. Lag: {p['rate']} events/s offered for {p['duration_s']} s, open "
        f"loop (each transaction starts on time whether or not earlier ones have committed), "
        f"in transactions of {p['lag_transaction_size']}; lag = inbox commit - producer commit, "
        "for every event.",
        "",
        head,
        rule,
        row("**throughput, events/s** (target ≥ 2,000)", lambda r: r["throughput"]["events_per_s"]),
        row(
            "producer write rate during the run, events/s", lambda r: tp(r)["producer_events_per_s"]
        ),
        row("relay batches (throughput run)", lambda r: tp(r)["relay_batches"]),
        row("consumer transactions (throughput run)", lambda r: tp(r)["consumer_transactions"]),
        row(
            "lag while saturated, p50 / p99 ms",
            lambda r: "{p50_ms} / {p99_ms}".format(**tp(r)["lag_under_saturation"]),
        ),
        row("lag run: rate achieved, events/s", lambda r: r["lag"]["achieved_rate"]),
        row("**lag p50, ms**", lambda r: r["lag"]["lag"]["p50_ms"]),
        row("**lag p95, ms**", lambda r: r["lag"]["lag"]["p95_ms"]),
        row("**lag p99, ms** (target < 250)", lambda r: r["lag"]["lag"]["p99_ms"]),
        row("**lag max, ms**", lambda r: r["lag"]["lag"]["max_ms"]),
        row(
            "of which commit → relay send, p50 / p99 ms",
            lambda r: stage(r, "commit_to_relay_send"),
        ),
        row(
            "of which relay send → consumer poll, p50 / p99 ms",
            lambda r: stage(r, "relay_send_to_poll"),
        ),
        row(
            "of which poll → inbox commit, p50 / p99 ms",
            lambda r: stage(r, "poll_to_inbox_commit"),
        ),
        row(
            "producer transaction, start → commit, p50 / p99 ms",
            lambda r: "{p50_ms} / {p99_ms}".format(**r["lag"]["producer_commit"]),
        ),
        row("relay batches (lag run)", lambda r: r["lag"]["relay_batches"]),
        row("consumer transactions (lag run)", lambda r: r["lag"]["consumer_transactions"]),
        "",
        "## Targets",
        "",
    ]
    for b in backends:
        v = ok[b]
        lines.append(
            f"- {NAMES[b]}: throughput {_yes(v.get('throughput'))}, "
            f"p99 lag at {LAG_RATE} events/s {_yes(v.get('lag'))}"
        )
    if doc.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in doc["notes"]]]
    return "\n".join(lines) + "\n"


def write(doc: dict[str, Any], directory: Path, name: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    md, js = directory / f"{name}.md", directory / f"{name}.json"
    md.write_text(markdown(doc))
    js.write_text(json.dumps(doc, indent=2) + "\n")
    return md, js
