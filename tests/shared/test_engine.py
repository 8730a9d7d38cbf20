"""Engines: SQLite writers queue for the one connection; idle PostgreSQL connections that
died are replaced before use."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import event, func, select, text

import carethread.db.engine as engine_module
from carethread.db import UnitOfWork, create_engine, session_factory
from carethread.testing.databases import admin_dsn
from tests.shared.support import EffectRow, database


async def test_many_concurrent_sqlite_writers_all_commit(tmp_path: Path) -> None:
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}") as (_, sessions):

        async def write(n: int) -> None:
            async with UnitOfWork(sessions) as uow:
                uow.session.add(EffectRow(event_id=uuid.uuid4(), person="p", n=n))
                await asyncio.sleep(0)  # let the others queue up meanwhile
                await uow.commit()

        async with asyncio.timeout(30):
            await asyncio.gather(*(write(n) for n in range(200)))
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(EffectRow)) == 200


@pytest.mark.postgres
async def test_an_idle_postgres_connection_that_died_is_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.1)
    pg = create_engine(postgres_url)
    try:
        sessions = session_factory(pg)
        async with sessions() as s:
            backend_pid = await s.scalar(text("SELECT pg_backend_pid()"))
        admin = await asyncpg.connect(admin_dsn())
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", backend_pid)
        finally:
            await admin.close()
        await asyncio.sleep(0.3)  # idle past the threshold: pinged, found dead, replaced
        async with sessions() as s:
            assert await s.scalar(text("SELECT 1")) == 1
            assert await s.scalar(text("SELECT pg_backend_pid()")) != backend_pid
    finally:
        await pg.dispose()


async def test_a_sqlite_connection_returned_mid_transaction_is_rolled_back(
    tmp_path: Path,
) -> None:
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}") as (sqlite, sessions):
        async with sqlite.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.execute("BEGIN IMMEDIATE")  # behind SQLAlchemy's back
            assert driver.in_transaction
        # Back in the pool with the write lock held: the reset must have rolled it back.
        async with asyncio.timeout(5), UnitOfWork(sessions) as uow:
            uow.session.add(EffectRow(event_id=uuid.uuid4(), person="p", n=1))
            await uow.commit()
        assert not driver.in_transaction


@pytest.mark.postgres
async def test_bursts_above_the_pool_size_reuse_the_pools_connections_on_postgres(
    postgres_url: str,
) -> None:
    """More transactions at once than the pool holds queue for its connections: every one
    completes, and no connection is opened beyond the pool's, burst after burst (an
    overflow connection would be closed when handed back, and opened again next time)."""
    engine = create_engine(postgres_url, pool_size=3)
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda connection, _: opened.append(connection))

    async def transaction() -> int:
        async with engine.begin() as connection:
            pid: int = (await connection.execute(select(func.pg_backend_pid()))).scalar_one()
            await connection.execute(select(func.pg_sleep(0.01)))
            return pid

    try:
        backends: set[int] = set()
        for _ in range(3):
            backends |= set(await asyncio.gather(*(transaction() for _ in range(12))))
        assert len(opened) == 3
        assert len(backends) == 3
    finally:
        await engine.dispose()


async def _in_one_transaction(uow: UnitOfWork) -> bool:
    """Whether two statements of ``uow`` ran in one transaction (they share its start)."""
    first = await uow.session.scalar(text("SELECT transaction_timestamp()"))
    await uow.session.execute(text("SELECT pg_sleep(0.01)"))
    return bool(first == await uow.session.scalar(text("SELECT transaction_timestamp()")))


@pytest.mark.postgres
async def test_a_unit_of_work_that_only_reads_runs_each_statement_on_its_own_on_postgres(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    try:
        sessions = session_factory(engine)
        async with UnitOfWork(sessions) as uow:
            await uow.only_reads()
            assert not await _in_one_transaction(uow)
        # The pool's one connection, handed back: the next unit of work is a transaction.
        async with UnitOfWork(sessions) as uow:
            assert await _in_one_transaction(uow)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_postgres_settings_are_every_connections_from_its_start(postgres_url: str) -> None:
    settings = {"plan_cache_mode": "force_custom_plan", "max_parallel_workers_per_gather": "0"}
    engine = create_engine(postgres_url, pool_size=2, postgres_settings=settings)
    try:
        sessions = session_factory(engine)

        async def shown() -> tuple[str | None, str | None]:
            async with UnitOfWork(sessions) as uow:
                await uow.only_reads()
                await asyncio.sleep(0.01)  # both connections of the pool in use at once
                return (
                    await uow.session.scalar(text("SHOW plan_cache_mode")),
                    await uow.session.scalar(text("SHOW max_parallel_workers_per_gather")),
                )

        assert list(await asyncio.gather(shown(), shown())) == [("force_custom_plan", "0")] * 2
    finally:
        await engine.dispose()
