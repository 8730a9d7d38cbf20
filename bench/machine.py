"""What the benchmark ran on: hardware, software and load, without any local paths."""

from __future__ import annotations

import os
import platform
import sqlite3
from importlib.metadata import version
from pathlib import Path

import asyncpg

from carethread.testing.databases import admin_dsn

TICKS = os.sysconf("SC_CLK_TCK")


def process_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces: the fields after it start after the last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def postgres_pids(database: str) -> list[int]:
    """The server processes serving ``database`` (a backend's title names its database)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or _comm(int(d)) != "postgres":
            continue
        try:
            title = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f" {database} " in title:
            out.append(int(d))
    return out


def postgres_cpu_s(database: str) -> float:
    """User + system seconds of every backend serving ``database`` now (backends that ended
    are not counted: a service keeps its pool open while it is timed)."""
    return (
        sum(t for pid in postgres_pids(database) if (t := process_ticks(pid)) is not None) / TICKS
    )


def _first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip() if ":" in line else line
    except OSError:
        return None
    return None


def cpu_model() -> str:
    return _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown"


def ram_gib() -> float | None:
    total = _first("/proc/meminfo", "MemTotal")
    if total is None:
        return None
    return round(int(total.split()[0]) / 1024 / 1024, 1)


def os_name() -> str:
    pretty = _first("/etc/os-release", "PRETTY_NAME=")
    name = pretty.split("=", 1)[1].strip('"') if pretty else platform.system()
    return f"{name}, kernel {platform.release()}"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, object]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": ram_gib(),
        "os": os_name(),
        "python": platform.python_version(),
    }


def libraries() -> dict[str, str]:
    found = {name: version(name) for name in ("aiokafka", "sqlalchemy", "aiosqlite", "asyncpg")}
    found["sqlite"] = sqlite3.sqlite_version
    return found


async def postgres_server() -> dict[str, str]:
    conn = await asyncpg.connect(admin_dsn(), timeout=5)
    try:
        return {
            name: str(await conn.fetchval(f"SHOW {name}"))
            for name in ("server_version", "fsync", "synchronous_commit", "shared_buffers")
        }
    finally:
        await conn.close()
