"""Where the CPU went during a timed window: the machine, the service, the clients and
PostgreSQL's backends for the benchmark's database, read from ``/proc`` (Linux), in percent
of one core."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bench.machine import TICKS, postgres_pids, process_ticks


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks over all cores since boot."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in first]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class Snapshot:
    at: float
    machine: tuple[int, int]
    processes: dict[str, int]  # name -> ticks (the sum over that group's pids)
    postgres: dict[int, int]


def snapshot(at: float, groups: dict[str, list[int]], database: str) -> Snapshot:
    processes = {
        name: sum(t for pid in pids if (t := process_ticks(pid)) is not None)
        for name, pids in groups.items()
    }
    postgres = {pid: t for pid in postgres_pids(database) if (t := process_ticks(pid)) is not None}
    return Snapshot(at, _machine_ticks(), processes, postgres)


def usage(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """Percent of one core used by each group between the snapshots; ``machine`` is the
    whole machine's busy share in percent of all its cores."""
    seconds = after.at - before.at
    out: dict[str, float] = {}
    busy = after.machine[0] - before.machine[0]
    total = after.machine[1] - before.machine[1]
    out["machine_busy_pct_of_all_cores"] = round(100 * busy / total, 1) if total else 0.0
    for name, ticks in after.processes.items():
        used = (ticks - before.processes.get(name, ticks)) / TICKS
        out[f"{name}_pct_of_one_core"] = round(100 * used / seconds, 1)
    # PostgreSQL backends come and go: count those alive at both ends, and the new ones whole.
    pg = sum(t - before.postgres.get(pid, 0) for pid, t in after.postgres.items()) / TICKS
    out["postgres_pct_of_one_core"] = round(100 * pg / seconds, 1)
    # What the rest of the machine used: other people's work, when it is shared.
    ours = sum(v for k, v in out.items() if k.endswith("_pct_of_one_core"))
    everything = out["machine_busy_pct_of_all_cores"] * (os.cpu_count() or 1)
    out["others_pct_of_one_core"] = round(max(everything - ours, 0.0), 1)
    return out
