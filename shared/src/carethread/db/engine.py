"""Async engines for SQLite (embedded mode) and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _is_sqlite_file(url: str) -> bool:
    database = make_url(url).database
    return bool(database) and database != ":memory:" and "mode=memory" not in url


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def on_postgres(session: Session | AsyncSession) -> bool:
    """Whether the session's database is PostgreSQL (else SQLite, the embedded mode)."""
    return session.get_bind().dialect.name == "postgresql"


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# JSON columns are written and read with orjson, several times faster than the standard
# library's json both ways: read models such as the MDT view decode and encode thousands
# of JSON values a second. Keys that are not strings are written as strings, as json does.
JSON_CODEC: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": orjson.loads}

SQLITE_LOCK_TIMEOUT = 30  # seconds a transaction waits for the database before failing


DEFAULT_POOL_SIZE = 20


def create_engine(
    url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    reader: bool = False,
    postgres_settings: Mapping[str, str] | None = None,
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and write transactions that take
    the lock up front (``BEGIN IMMEDIATE``), so two writers queue instead of failing.

    Every SQLite transaction holds the file's write lock, so one engine's transactions run
    one at a time whatever the pool size. A SQLite file engine therefore keeps a single
    connection: its transactions queue for it in the pool and each is woken the moment
    the one before it ends, instead of polling the lock in SQLite's busy handler, which
    sleeps up to 100 ms between tries. Other processes on the same file still queue
    through the busy timeout. ``pool_size`` applies to PostgreSQL.

    On PostgreSQL the pool is fixed at ``pool_size`` connections, with no overflow: SQLAlchemy
    closes an overflow connection as soon as it is handed back, so under a steady load above
    the pool's size every burst opened and closed connections (a backend started for each,
    its statements prepared again): 50 clients sending referrals made the front door open
    118 connections in one 30-second benchmark run with 10 + 10 overflow. Requests now queue
    for one of the pool's connections, and wait less than they spent connecting.

    While a transaction holds that connection, every trip to the driver's thread waits for
    the event loop to come round, so a SQLite transaction makes as few as it can: its
    ``BEGIN`` goes straight to the driver, and a connection handed back with no
    transaction open is not rolled back again.

    ``reader=True`` is for tools that only read a live service's database (``replay``): on
    SQLite its transactions begin deferred, so in WAL mode they neither wait for the
    service's writers nor hold them up.

    ``postgres_settings``: run-time parameters every PostgreSQL connection starts with
    (``plan_cache_mode``, say), sent with the connection's start-up message, so that they
    cost no statement of their own."""
    if is_sqlite(url):
        if _is_sqlite_file(url):
            engine = create_async_engine(
                url,
                **JSON_CODEC,
                connect_args={"timeout": SQLITE_LOCK_TIMEOUT},
                pool_size=1,
                max_overflow=0,
                pool_timeout=SQLITE_LOCK_TIMEOUT,
                pool_reset_on_return=None,
            )
            _reset_only_open_transactions(engine)
        else:
            engine = create_async_engine(
                url, connect_args={"timeout": SQLITE_LOCK_TIMEOUT}, **JSON_CODEC
            )
        _configure_sqlite(engine, reader=reader)
        return engine
    connect_args = {"server_settings": dict(postgres_settings)} if postgres_settings else {}
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=0, connect_args=connect_args, **JSON_CODEC
    )
    _ping_idle_connections(engine)
    return engine


PING_AFTER_IDLE = 1.0  # seconds a pooled connection may sit unused before it is pinged


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only if it has been idle a while.

    What ``pool_pre_ping`` does, without its extra round trip on every checkout: a
    connection that was in use a moment ago is alive, and a busy service checks out
    connections thousands of times a second. One that sat idle (through a database
    restart, say) is pinged, and replaced if it does not answer."""
    idle_since = "carethread_idle_since"

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[idle_since] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _: Any) -> None:
        since = record.info.pop(idle_since, None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as e:
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError("idle connection did not answer a ping") from e


def _configure_sqlite(engine: AsyncEngine, *, reader: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first, so that even the pragmas below wait for a busy file.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_TIMEOUT * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    begin = "BEGIN" if reader else "BEGIN IMMEDIATE"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the driver: one trip to its thread instead of a cursor's three.
        try:
            connection.connection.dbapi_connection.run_async(lambda c: c.execute(begin))
        except sqlite3.Error as e:  # as SQLAlchemy would have raised it
            raise OperationalError(begin, None, e) from e


def _reset_only_open_transactions(engine: AsyncEngine) -> None:
    """What the pool's reset-on-return does (with it switched off), minus the trip to the
    driver's thread when the connection comes back with no transaction open, as it
    almost always does: the session has committed or rolled back already."""

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _: Any, state: Any) -> None:
        if not state.terminate_only and dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
