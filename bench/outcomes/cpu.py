"""CPU time of the PostgreSQL backends serving one database, read from /proc, so a run
records what the database did for each request or event besides this process's own."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def postgres_cpu_s(database: str) -> float:
    """User + system seconds of every backend connected to ``database`` now (backends
    that ended are not counted: the service keeps its pool open while it is timed)."""
    marker = f" {database} ".encode()
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            if not command.startswith(b"postgres: ") or marker not in command:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile, or is not ours to read
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS
