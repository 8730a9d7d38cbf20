"""The recorded results of a referrals benchmark run: markdown and JSON, named by date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

JSON_TARGET = 300.0  # referrals/s, JSON API
FHIR_TARGET = 150.0  # referrals/s, FHIR transaction Bundles
INTAKE_P99_TARGET_MS = 150.0
QUEUE_P95_TARGET_MS = 50.0
QUEUE_STORED_TARGET = 100_000
ACHIEVED_SHARE = 0.95  # the offered rate counts as offered if this share of it was answered


def verdicts(results: dict[str, Any]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for kind, target in (("json", JSON_TARGET), ("fhir", FHIR_TARGET)):
        r = results.get(kind)
        if r is None:
            continue
        clean = r["failed"] == 0
        out[f"{kind}_throughput"] = clean and r["referrals_per_s"] >= target
        a = r.get("at_rate")
        if a is None:  # no open-loop run: the closed loop's latency is all there is
            out[f"{kind}_p99"] = clean and r["latency"]["p99_ms"] < INTAKE_P99_TARGET_MS
        else:
            out[f"{kind}_p99"] = (
                a["failed"] == 0
                and a["not_sent"] == 0
                and a["offered_rate"] >= target
                and a["referrals_per_s"] >= ACHIEVED_SHARE * a["offered_rate"]
                and a["latency"]["p99_ms"] < INTAKE_P99_TARGET_MS
            )
    q = results.get("queue")
    if q is not None:
        out["queue_p95"] = (
            q["failed"] == 0
            and q["stored_referrals"] >= QUEUE_STORED_TARGET
            and q["latency"]["p95_ms"] < QUEUE_P95_TARGET_MS
        )
    checks = results.get("checks")
    if checks is not None:
        out["counts_match"] = bool(checks["ok"])
    return out


def _yes(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def _cpu(cpu: dict[str, float]) -> str:
    names = {
        "service": "service",
        "clients": "load generator",
        "postgres": "PostgreSQL (the benchmark database's backends)",
        "tansu": "Tansu",
        "others": "everything else on the machine",
    }
    parts = [
        f"{label} {cpu[key + '_pct_of_one_core']}%"
        for key, label in names.items()
        if key + "_pct_of_one_core" in cpu
    ]
    return (
        f"machine {cpu['machine_busy_pct_of_all_cores']}% busy (of all cores); "
        + ", ".join(parts)
        + " (of one core)"
    )


def _statuses(r: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))


def _intake(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    intake = [k for k in ("json", "fhir") if k in results]
    if intake:
        names = {"json": "JSON `POST /api/v1/referrals`", "fhir": "FHIR `POST /fhir` (Bundle)"}
        targets = {"json": JSON_TARGET, "fhir": FHIR_TARGET}
        lines += [
            "| | " + " | ".join(names[k] for k in intake) + " |",
            "|---|" + "---:|" * len(intake),
        ]

        def row(label: str, get: Any) -> str:
            return f"| {label} | " + " | ".join(str(get(results[k], k)) for k in intake) + " |"

        lines += [
            row(
                "**referrals/s** (target ≥ 300 JSON, ≥ 150 FHIR)",
                lambda r, k: f"**{r['referrals_per_s']}** (≥ {targets[k]:g})",
            ),
            row("created in the timed window (closed loop)", lambda r, k: r["timed_ok"]),
            row("latency p50, ms (closed loop)", lambda r, k: r["latency"]["p50_ms"]),
            row("latency p95, ms (closed loop)", lambda r, k: r["latency"]["p95_ms"]),
            row("latency p99, ms (closed loop)", lambda r, k: r["latency"]["p99_ms"]),
            row("latency max, ms (closed loop)", lambda r, k: r["latency"]["max_ms"]),
            row("latency mean, ms (closed loop)", lambda r, k: r["latency"]["mean_ms"]),
            row("requests, closed loop run (warm-up included)", lambda r, k: r["sent"]),
            row("failed (not a new referral)", lambda r, k: r["failed"]),
            row(
                "**at the target rate (open loop)**: offered / answered per s (of those "
                "due in the timed window) / served per s (whenever due)",
                lambda r, k: (
                    "{offered_rate:g} / {referrals_per_s} / {served_per_s}".format(**r["at_rate"])
                    if "at_rate" in r
                    else "—"
                ),
            ),
            row(
                "**latency p50 / p95 / p99 / max, ms** at that rate (target p99 < 150)",
                lambda r, k: (
                    "{p50_ms} / {p95_ms} / **{p99_ms}** / {max_ms}".format(
                        **r["at_rate"]["latency"]
                    )
                    if "at_rate" in r
                    else "—"
                ),
            ),
            row(
                "at that rate: failed / never sent (still queued at the end)",
                lambda r, k: (
                    f"{r['at_rate']['failed']} / {r['at_rate']['not_sent']}"
                    if "at_rate" in r
                    else "—"
                ),
            ),
            row("answers", lambda r, k: _statuses(r)),
            row(
                "CPU per referral, ms: service / PostgreSQL",
                lambda r, k: (
                    "{service} / {postgres}".format(**r["cpu_ms_per_referral"])
                    if r.get("cpu_ms_per_referral")
                    else "—"
                ),
            ),
            row(
                "database connections the service opened (whole run)",
                lambda r, k: r.get("database_connections_opened", "—"),
            ),
        ]
        lines.append("")
        for k in intake:
            lines.append(f"- CPU during the {k.upper()} window: {_cpu(results[k]['cpu'])}")
            if "at_rate" in results[k]:
                lines.append(
                    f"- CPU during the {k.upper()} window at the target rate: "
                    + _cpu(results[k]["at_rate"]["cpu"])
                )
        for k in intake:
            for sample in results[k].get("samples", []):
                lines.append(f"- {k.upper()} failure: `{sample[:300]}`")
    return lines


def markdown(doc: dict[str, Any]) -> str:  # one page, top to bottom
    m, s, results, ok = doc["machine"], doc["settings"], doc["results"], doc["targets_met"]
    lines = [
        f"# Referrals benchmark, {doc['date']}",
        "",
        "Intake and the triage queue of the referrals service, over HTTP, on PostgreSQL, with "
        "everything a real request goes through: bearer token check, validation, matching at "
        "the door, audit record and outbox events, the outbox relay publishing to a Tansu "
        "broker. Produced by `python -m bench.referrals` (part of `make bench`); see "
        "`bench/README.md` for what is measured and how.",
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
        f"- Broker: Tansu {doc['broker']['tansu']}, memory storage",
        "",
        "## Settings",
        "",
        (
            f"- Service: `python -m referrals` as `carethread dev` starts it (one uvicorn "
            f"process, {s['event_loop']})"
            if s.get("server_workers", 1) <= 1
            else f"- Service: `python -m referrals` with **REFERRALS_WORKERS="
            f"{s['server_workers']}** (uvicorn server processes), {s['event_loop']}"
        )
        + f", database over {s.get('database_connection', 'TCP, 127.0.0.1')}"
        + f", database pool {s['database_pool_size']} (no overflow), Kafka client settings "
        "as for Tansu in dev and tests",
        f"- Intake throughput: {s['clients']} concurrent clients (aiohttp, one keep-alive "
        f"connection each, closed loop: each sends its next request when answered) in "
        f"{s['client_processes']} load-generator process(es); {s['warmup_s']} s warm-up, then "
        f"{s['duration_s']} s timed, per format",
        f"- Intake latency: the target rate offered, open loop ({s.get('rate_json', 0):g} JSON, "
        f"{s.get('rate_fhir', 0):g} FHIR requests/s, each sent when due on the first free one "
        f"of the same {s['clients']} clients, latency counted from when it was due); "
        f"{s.get('rate_warmup_s', 0)} s warm-up, then {s.get('rate_duration_s', 0)} s timed. "
        "With 50 clients in a closed loop the mean latency is 50 ÷ the rate (167 ms at 300/s), "
        "so p99 < 150 ms can only be asked at a given rate",
        f"- Each referral is new (no replays): {s['people']:,} synthetic people (999-range NHS "
        f"numbers), {round(100 * s['no_nhs_share'])}% with no NHS number (half of them with no "
        "GP either), NCL postcodes and GP practices from the reference data, every source and "
        "urgency; the same person is sometimes referred again, so matching finds links",
        f"- Queue: {s['stored']:,} referrals stored in bulk before it (the last "
        f"{s['stored_days']} days, every state), then {s['queue_clients']} triager(s) querying "
        f"closed loop for {s['queue_duration_s']} s after {s['queue_warmup_s']} s warm-up, 50 "
        "a page, realistic filter mixes (below)",
    ]
    if s.get("profiled"):
        lines.append(f"- **Profiled** ({s['profiled']}): figures are slower than without it")
    lines += ["", "## Intake", "", *_intake(results)]
    checks = results.get("checks")
    if checks:
        lines += [
            "",
            "## Correctness",
            "",
            f"After intake: {checks['created']} referrals created (201, or a transaction entry "
            f"`201 Created`); the database holds {checks['counts']['referrals']} referral rows, "
            f"{checks['counts']['transitions']} status history rows, "
            f"{checks['counts']['audit_records']} audit records and "
            f"{checks['counts']['outbox']} outbox rows "
            f"({checks['counts']['outbox_referral_received']} referral-received, "
            f"{checks['counts']['outbox_audit_recorded']} audit-recorded, "
            f"{checks['counts'].get('outbox_other_events', 0)} other events, e.g. person "
            "registered/updated). "
            + (
                f"The relay had published every one {checks['published_after_s']} s after the "
                "last request."
                if checks["published_after_s"] is not None
                else "**The relay had not published them all in time.**"
            )
            + f" Verdict: {'every count matches' if checks['ok'] else '**mismatch**'}.",
        ]
    q = results.get("queue")
    if q:
        st = q["stored"]
        lines += [
            "",
            "## Triage queue",
            "",
            f"{q['stored_referrals']:,} referrals in the table (loaded in "
            f"{st['insert_seconds']} s, built in {st['build_seconds']} s, VACUUM ANALYZE "
            f"{st['analyze_seconds']} s). `GET /api/v1/referrals` as a triager, "
            f"{q['clients']} concurrent, {q['queries']} queries in {q['duration_s']} s "
            f"({q['queries_per_s']}/s), failed: {q['failed']}.",
            "",
            "| filters | share | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|",
            "| **all** | 100% | {p50_ms} | **{p95_ms}** (target < 50) | {p99_ms} | "
            "{max_ms} |".format(**q["latency"]),
        ]
        for kind, stats in q["by_filter"].items():
            share = round(100 * stats["count"] / q["queries"])
            lines.append(
                f"| {kind} | {share}% | {stats['p50_ms']} | {stats['p95_ms']} | "
                f"{stats['p99_ms']} | {stats['max_ms']} |"
            )
        lines += ["", f"- CPU during the queue window: {_cpu(q['cpu'])}"]
        if q.get("cpu_ms_per_query"):
            lines.append(
                "- CPU per query, ms: service {service}, PostgreSQL {postgres}".format(
                    **q["cpu_ms_per_query"]
                )
            )
        for sample in q.get("samples", []):
            lines.append(f"- queue failure: `{sample[:300]}`")
    lines += [
        "",
        "## Targets",
        "",
        f"- JSON intake ≥ 300 referrals/s: {_yes(ok.get('json_throughput'))}; "
        f"p99 < 150 ms at 300/s: {_yes(ok.get('json_p99'))}",
        f"- FHIR Bundle intake ≥ 150 referrals/s: {_yes(ok.get('fhir_throughput'))}; "
        f"p99 < 150 ms at 150/s: {_yes(ok.get('fhir_p99'))}",
        f"- Triage queue p95 < 50 ms with 100,000 referrals stored: {_yes(ok.get('queue_p95'))}",
        f"- Rows written match the referrals created: {_yes(ok.get('counts_match'))}",
    ]
    if doc.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in doc["notes"]]]
    return "\n".join(lines) + "\n"


def write(doc: dict[str, Any], directory: Path, name: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    md, js = directory / f"{name}.md", directory / f"{name}.json"
    md.write_text(markdown(doc))
    js.write_text(json.dumps(doc, indent=2) + "\n")
    return md, js
