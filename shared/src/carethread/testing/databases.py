"""Per-test databases: a SQLite file, or a fresh PostgreSQL database dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from carethread.db import create_engine

ADMIN_URL_ENV = "CARETHREAD_TEST_POSTGRES_URL"
REQUIRE_ENV = "CARETHREAD_REQUIRE_POSTGRES"
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_dsn() -> str:
    return os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_DSN)


def postgres_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0", "false")


async def postgres_available() -> str | None:
    """None when the server answers; otherwise why not."""
    try:
        conn = await asyncpg.connect(admin_dsn(), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        return f"PostgreSQL at {admin_dsn()} is not reachable: {e}"
    await conn.close()
    return None


def sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


@asynccontextmanager
async def temporary_postgres_database(prefix: str = "ct_test") -> AsyncIterator[str]:
    """Create an empty database; yield its SQLAlchemy URL; drop it (even if in use)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = admin_dsn().rpartition("/")
    try:
        yield sqlalchemy_url(f"{base}/{name}")
    finally:
        admin = await asyncpg.connect(admin_dsn())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def connection_of_another_process(database_url: str) -> AsyncIterator[AsyncConnection]:
    """A connection to ``database_url`` of its own engine, as another process would have, in
    one transaction committed at the end; the engine disposed afterwards."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            yield connection
    finally:
        await engine.dispose()
