"""What the benchmark ran on: hardware, software and load, without any local paths."""

from __future__ import annotations

import os
import platform
import sqlite3
from importlib.metadata import version
from pathlib import Path

import asyncpg

from carethread.testing.databases import admin_dsn


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
