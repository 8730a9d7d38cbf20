"""The transactional outbox: events are rows committed with the change they describe.

The relay (one active per service: on PostgreSQL it holds an advisory lock) publishes
unpublished rows in ``position`` order, waits for ``acks="all"``, then marks them. It
selects by the ``published_at IS NULL`` flag, never by a moving high-water mark: on
PostgreSQL a position is taken before commit, so a row may become visible after a later
one was already published. Same-person order is kept by serialising writers per key.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Insert,
    Select,
    Table,
    all_,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy import event as event_api
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from carethread.db.engine import on_postgres
from carethread.db.tables import OutboxRow
from carethread.db.uow import UnitOfWork
from carethread.events.envelope import CloudEvent
from carethread.events.topics import prefixed
from carethread.messaging.broker import BrokerUnavailable, OutgoingMessage, Publisher
from carethread.observability.logging import get_logger
from carethread.observability.metrics import ServiceMetrics

log = get_logger(__name__)


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key derived from a name."""
    return zlib.crc32(name.encode()) - 2**31


_PENDING = "carethread.outbox.pending"
# PostgreSQL: a transaction that writes outbox rows notifies this channel; the active relay
# listens, so a commit in any process (another server worker, another replica) wakes it at
# once. Each service has its own database, and so its own channel.
WAKE_CHANNEL = "carethread_outbox"
LISTENING_POLL_S = 1.0  # the relay's poll while it listens (a safety net)

# One statement for every key a flush is about to write, in key order (so two writers
# that share keys cannot deadlock each other), and the relay's wake-up (delivered at commit,
# once per transaction however often it is asked). Volatile functions in the select list
# are evaluated after the sort.
_LOCK_KEYS = text(
    "SELECT pg_advisory_xact_lock(k), pg_notify(:channel, '') "
    "FROM unnest(CAST(:keys AS BIGINT[])) AS t(k) ORDER BY k"
)
_OUTBOX = cast(Table, OutboxRow.__table__)
_INSERT_OUTBOX = insert(_OUTBOX)


class _Pending:
    """What a session's next flush writes with Core statements, not as ORM objects (a
    request's few rows cost more in the ORM's unit of work than in the statements): the
    outbox rows in the order they were added, the lock keys of their keys, and rows of
    other tables written alongside them (the audit record), each table in one statement.

    ``Session.flush()`` does nothing on a session with no ORM changes, so while rows wait
    a marker sits in the session (a transient ``OutboxRow``, never written: the flush's
    ``before_flush`` takes it out again). A flush, explicit, automatic or at commit,
    therefore writes the rows exactly when it would have written them as ORM objects, and
    a rollback (of the transaction or of a savepoint) forgets the rows it discards."""

    __slots__ = ("keys", "marker", "outbox", "tables")

    def __init__(self) -> None:
        self.keys: set[int] = set()
        self.outbox: list[dict[str, Any]] = []
        self.tables: dict[Table, list[dict[str, Any]]] = {}
        self.marker: OutboxRow | None = None  # in the session while rows wait


def _pending(uow: UnitOfWork) -> _Pending:
    session = uow.session.sync_session
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = _Pending()
    if pending.marker is None:
        pending.marker = OutboxRow()
        session.add(pending.marker)
    return pending


def _write_pending(session: Session, *_: object) -> None:
    """``before_flush`` (and ``before_commit``): write the waiting rows, the outbox's last:
    first the transaction-scoped locks of its keys, so the rows take their positions in
    commit order per key."""
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is None or pending.marker is None:
        return
    marker, pending.marker = pending.marker, None
    if marker in session:
        session.expunge(marker)
    tables, pending.tables = pending.tables, {}
    outbox, pending.outbox = pending.outbox, []
    keys, pending.keys = pending.keys, set()
    if _fits_one_statement(session, tables, keys, outbox):
        statement, params = _one_statement(tables, sorted(keys), outbox)
        session.execute(statement, params)
        return
    for table, rows in tables.items():
        session.execute(_insert(table), rows)
    if keys:
        session.execute(_LOCK_KEYS, {"keys": sorted(keys), "channel": WAKE_CHANNEL})
    if outbox:
        session.execute(_INSERT_OUTBOX, outbox)


# PostgreSQL writes what a flush waits with in one statement (one round trip, not three):
# the other tables' rows in data-modifying WITHs, then the outbox rows, selected through a
# one-time filter on the key locks, so every lock is held before the first row takes its
# position (the filter is evaluated before any row is produced, and a position is drawn
# as a row is inserted). Built once per shape: which tables, how many rows of each.
_Shape = tuple[tuple[Table, tuple[str, ...], int], ...]
_ONE_STATEMENT: dict[tuple[_Shape, int], Insert] = {}
# A request's flush writes a few rows; a bulk one (an import) keeps to the statements per
# table, whose shape does not grow with it (nor its bound values past the driver's limit).
ONE_STATEMENT_MAX_ROWS = 16


def _fits_one_statement(
    session: Session,
    tables: dict[Table, list[dict[str, Any]]],
    keys: set[int],
    outbox: list[dict[str, Any]],
) -> bool:
    return (
        bool(keys and outbox)
        and on_postgres(session)
        and len(outbox) <= ONE_STATEMENT_MAX_ROWS
        and all(len(rows) <= ONE_STATEMENT_MAX_ROWS for rows in tables.values())
    )


_OUTBOX_COLUMNS = [c.name for c in _OUTBOX.c if c.name not in ("position", "published_at")]


def _rows(table: Table, prefix: str, names: Sequence[str], count: int) -> Select[Any]:
    """``count`` rows of bound values for ``table``'s columns ``names``, in order, as a
    SELECT (an INSERT of several VALUES rows is compiled anew every time; this is compiled
    once)."""
    rows = [
        select(
            literal_column(str(r)).label("ordinal"),
            *(bindparam(f"{prefix}{r}_{n}", type_=table.c[n].type).label(n) for n in names),
        )
        for r in range(count)
    ]
    source = (union_all(*rows) if count > 1 else rows[0]).subquery()
    return select(*(source.c[n] for n in names)).order_by(source.c.ordinal)


def _build_one_statement(shape: _Shape, outbox_rows: int) -> Insert:
    key = func.unnest(bindparam("keys", type_=ARRAY(BigInteger))).column_valued("k")
    locks = (
        select(
            func.pg_advisory_xact_lock(key).label("locked"),
            func.pg_notify(bindparam("channel"), "").label("notified"),
        )
        .order_by(key)
        .cte("locks")
    )
    locked_first = select(func.count()).select_from(locks).scalar_subquery() >= 0
    statement = insert(_OUTBOX).from_select(
        _OUTBOX_COLUMNS, _rows(_OUTBOX, "o", _OUTBOX_COLUMNS, outbox_rows).where(locked_first)
    )
    for i, (table, names, count) in enumerate(shape):
        written = insert(table).from_select(names, _rows(table, f"t{i}r", names, count))
        statement = statement.add_cte(written.cte(f"written_{i}"))
    return statement


def _one_statement(
    tables: dict[Table, list[dict[str, Any]]], keys: list[int], outbox: list[dict[str, Any]]
) -> tuple[Insert, dict[str, Any]]:
    shape = tuple((table, tuple(rows[0]), len(rows)) for table, rows in tables.items())
    statement = _ONE_STATEMENT.get((shape, len(outbox)))
    if statement is None:
        statement = _ONE_STATEMENT[shape, len(outbox)] = _build_one_statement(shape, len(outbox))
    params: dict[str, Any] = {"keys": keys, "channel": WAKE_CHANNEL}
    for r, row in enumerate(outbox):
        params.update({f"o{r}_{n}": row[n] for n in _OUTBOX_COLUMNS})
    for i, rows in enumerate(tables.values()):
        for r, row in enumerate(rows):
            params.update({f"t{i}r{r}_{n}": value for n, value in row.items()})
    return statement, params


def _forget_pending(session: Session, *_: object) -> None:
    """``after_transaction_end``: rows still waiting when a transaction (or savepoint)
    ends were never flushed, so it was rolled back; they go with it. (A savepoint begins
    with a flush, so what waits at its end was added inside it.)"""
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is not None and pending.marker is not None:
        pending.marker = None  # the rollback has taken it out of the session
        pending.tables = {}
        pending.outbox = []
        pending.keys = set()


# Every session's (one listener each, registered once: a listener per session would cost
# more than the rest of this); a session with nothing waiting passes straight through.
event_api.listen(Session, "before_flush", _write_pending)
event_api.listen(Session, "before_commit", _write_pending)  # in case the marker was expunged
event_api.listen(Session, "after_transaction_end", _forget_pending)

_INSERTS: dict[Table, Insert] = {}


def _insert(table: Table) -> Insert:
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = insert(table)
    return statement


def insert_at_flush(uow: UnitOfWork, table: Table, row: dict[str, Any]) -> None:
    """Insert ``row`` into ``table`` when the unit of work next flushes, in one statement
    with the other rows of that table waiting (the audit writer's records). Every row of a
    table must give the same columns."""
    _pending(uow).tables.setdefault(table, []).append(row)


async def add_to_outbox(uow: UnitOfWork, event: CloudEvent, *, topic: str, key: str) -> None:
    """Add ``event`` to the unit of work's transaction; it is published after commit."""
    pending = _pending(uow)
    if uow.is_postgres:
        # Writers for the same key take their positions in commit order, so the relay
        # can never publish a later change of one person before an earlier one: a
        # transaction-scoped advisory lock per key, held to commit, is taken just before
        # the row is inserted (at flush, for all of a flush's keys in one statement).
        pending.keys.add(_lock_key("outbox:" + key))
    headers = {"ce_type": event.type, "ce_id": str(event.id)}
    if event.traceparent:
        headers["traceparent"] = event.traceparent
    pending.outbox.append(
        {
            "event_id": event.id,
            "topic": topic,
            "key": key,
            "event_type": event.type,
            "payload": event.to_json_bytes().decode(),
            "headers": headers,
            "created_at": datetime.now(UTC),
        }
    )
    uow.events_written()


class _Publishable(Protocol):
    """An outbox row, or the columns of one the relay reads."""

    @property
    def topic(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def payload(self) -> str: ...
    @property
    def headers(self) -> dict[str, str]: ...


# The relay works on the table itself (Core, over a plain connection): no ORM session, no
# ORM-enabled UPDATE to evaluate. It runs once per commit at a trickle (every audited read
# writes an event), so its cost is paid on every request.
_TO_PUBLISH = (
    _OUTBOX.c.position,
    _OUTBOX.c.topic,
    _OUTBOX.c.key,
    _OUTBOX.c.payload,
    _OUTBOX.c.headers,
    _OUTBOX.c.created_at,
)
_MARK_PUBLISHED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.position.in_(bindparam("positions", expanding=True)))
    .values(published_at=bindparam("now"))
)
_UNPUBLISHED = _OUTBOX.c.published_at.is_(None)
_BACKLOG = select(func.count()).select_from(_OUTBOX).where(_UNPUBLISHED)


def _next_batch(limit: int) -> Select[Any]:
    return select(*_TO_PUBLISH).where(_UNPUBLISHED).order_by(_OUTBOX.c.position).limit(limit)


def _mark_and_read_next(limit: int) -> Select[Any]:
    """PostgreSQL: mark the batch sent as published and read the next batch in one
    statement (a data-modifying WITH), run on its own (autocommit): one round trip per
    relay cycle instead of four (BEGIN, UPDATE, SELECT, COMMIT). The statement's read sees
    the table as it was before the statement, so it leaves out the batch being marked."""
    sent = bindparam("sent", type_=ARRAY(BigInteger))
    marked = (
        update(_OUTBOX)
        .where(_OUTBOX.c.position == any_(sent))
        .values(published_at=bindparam("now"))
        .cte("marked")
    )
    return _next_batch(limit).add_cte(marked).where(_OUTBOX.c.position != all_(sent))


def to_message(row: _Publishable, topic_prefix: str) -> OutgoingMessage:
    return OutgoingMessage(
        topic=prefixed(topic_prefix, row.topic),
        key=row.key,
        value=row.payload.encode(),
        headers=tuple((k, v.encode()) for k, v in sorted(row.headers.items())),
    )


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        publisher: Publisher,
        topics: Sequence[str],
        topic_prefix: str,
        metrics: ServiceMetrics,
        batch_size: int = 500,
        poll_interval: float = 0.1,
        linger: float = 0.0,
    ) -> None:
        self._service = service
        self._engine = engine
        self._publisher = publisher
        self._topics = [prefixed(topic_prefix, t) for t in topics]
        self._prefix = topic_prefix
        self._metrics = metrics
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._linger = linger
        self._cycle_started = 0.0  # the event loop's clock
        self._read_next = _next_batch(batch_size)
        self._mark_and_read_next = _mark_and_read_next(batch_size)
        # PostgreSQL: the relay's statements each run on their own, without BEGIN/COMMIT.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._wake = asyncio.Event()
        self._sent: list[int] = []  # positions sent, to be marked published by the next call
        self._listener: Any = None  # the driver connection LISTENing for commits, if any
        self.connected = False
        self.standby = False

    def notify(self) -> None:
        """Called after a commit that wrote events: publish now rather than at next poll."""
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.1
        while True:
            try:
                if self._engine.dialect.name == "postgresql":
                    async with self._engine.connect() as lock_conn:
                        await self._run_holding_lock(lock_conn)
                else:
                    await self._connect_and_publish()
            except asyncio.CancelledError:
                await asyncio.shield(self._publisher.stop())
                raise
            except Exception as e:  # the relay must survive anything
                if self.connected:
                    backoff = 0.1
                log.warning("outbox relay error; retrying", error=repr(e), backoff=backoff)
            self.connected = False
            self.standby = False
            await self._publisher.stop()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _run_holding_lock(self, conn: AsyncConnection) -> None:
        key = _lock_key("outbox-relay:" + self._service)
        while True:
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
            await conn.commit()
            if got:
                break
            # Another replica's relay is active; stand by in case it goes away.
            self.standby = True
            await asyncio.sleep(1.0)
        self.standby = False
        await self._listen(conn)
        try:
            await self._connect_and_publish()
        finally:
            listener, self._listener = self._listener, None
            if listener is not None:
                with contextlib.suppress(Exception):  # the connection may be gone
                    await listener.remove_listener(WAKE_CHANNEL, self._on_notification)
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})

    async def _listen(self, conn: AsyncConnection) -> None:
        """LISTEN on the lock's connection, if the driver can (asyncpg can)."""
        raw = (await conn.get_raw_connection()).driver_connection
        if raw is not None and hasattr(raw, "add_listener"):
            await raw.add_listener(WAKE_CHANNEL, self._on_notification)
            self._listener = raw

    def _on_notification(self, *_: object) -> None:
        self._wake.set()

    async def ping(self) -> None:
        await asyncio.wait_for(self._publisher.ping(), timeout=3)

    async def _connect_and_publish(self) -> None:
        self._sent = []  # sent but unmarked on an earlier connection: sent again (consumers de-dup)
        await self._publisher.start()
        await self._publisher.ensure_topics(self._topics)
        self.connected = True
        loop = asyncio.get_running_loop()
        while True:
            # A batch just sent is marked by the next call. A full batch means more is
            # waiting: straight on. Otherwise the next call waits for a commit (notify) or
            # the poll interval, then marks and reads the next batch in one transaction:
            # at a trickle of writes, one relay transaction per commit instead of two.
            self._cycle_started = loop.time()
            if await self.publish_pending() < self._batch_size:
                await self._wait()

    async def _wait(self) -> None:
        # Woken by a commit (this process's, or any process's through LISTEN): the poll is
        # then only a safety net, and a slow one spares an idle service's CPU.
        interval = self._poll_interval
        if self._listener is not None:
            interval = max(interval, LISTENING_POLL_S)
        # asyncio.timeout, not wait_for: no inner task that a cancelled relay must wait on.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await self._wake.wait()
        # Under a stream of commits, one cycle per commit cost the database and this process
        # more than the commits' own outbox rows (a statement, a broker request each). Like a
        # Kafka producer's linger.ms: a cycle starts no sooner than ``linger`` after the one
        # before, so the commits of that interval go out together. An idle relay woken by
        # one commit is long past it and goes at once.
        delay = self._cycle_started + self._linger - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)
        self._wake.clear()

    async def publish_pending(self) -> int:
        """Mark the batch the previous call sent as published, then send the next batch of
        unpublished rows; return how many were sent (call until it returns 0).

        Marking one batch and reading the next share a transaction (on PostgreSQL, one
        statement), so a steady stream costs one transaction per batch; a batch is still
        marked only once the broker has acknowledged it, so a relay stopped in between
        sends that batch again.
        """
        sent, self._sent = self._sent, []
        if self._engine.dialect.name == "postgresql":
            async with self._autocommit.connect() as conn:
                if sent:
                    found = await conn.execute(
                        self._mark_and_read_next, {"sent": sent, "now": datetime.now(UTC)}
                    )
                else:
                    found = await conn.execute(self._read_next)
                rows = found.all()
                backlog = len(rows)  # all there is, unless the batch is full
                if backlog == self._batch_size:
                    backlog = (await conn.scalar(_BACKLOG)) or backlog
        else:
            async with self._engine.begin() as conn:
                if sent:
                    await conn.execute(
                        _MARK_PUBLISHED, {"positions": sent, "now": datetime.now(UTC)}
                    )
                rows = (await conn.execute(self._read_next)).all()
                backlog = len(rows)
                if backlog == self._batch_size:
                    backlog = (await conn.scalar(_BACKLOG)) or backlog
        self._metrics.outbox_published.inc(len(sent))
        self._metrics.outbox_backlog.set(backlog)
        if not rows:
            self._metrics.outbox_oldest_age.set(0)
            return 0
        self._metrics.outbox_oldest_age.set(
            (datetime.now(UTC) - rows[0].created_at) / timedelta(seconds=1)
        )
        try:
            await self._publisher.send_batch([to_message(r, self._prefix) for r in rows])
        except BrokerUnavailable:
            # A broker that lost its topics (Tansu restarted) gets them back.
            await self._publisher.ensure_topics(self._topics)
            raise
        self._sent = [r.position for r in rows]
        return len(rows)


async def replay(
    sessions: async_sessionmaker[AsyncSession],
    publisher: Publisher,
    *,
    topic_prefix: str,
    since: datetime | None = None,
    batch_size: int = 1000,
) -> int:
    """Republish the outbox (the service's event log) in order, from ``since`` if given.

    Consumers de-duplicate on event id, so replaying what they already applied is harmless.
    """
    sent = 0
    last = 0
    while True:
        async with session_scope(sessions) as session:
            query = select(OutboxRow).where(OutboxRow.position > last)
            if since is not None:
                query = query.where(OutboxRow.created_at >= since)
            rows = (
                await session.scalars(query.order_by(OutboxRow.position).limit(batch_size))
            ).all()
        if not rows:
            return sent
        topics = {prefixed(topic_prefix, r.topic) for r in rows}
        await publisher.ensure_topics(topics)
        await publisher.send_batch([to_message(r, topic_prefix) for r in rows])
        sent += len(rows)
        last = rows[-1].position


class session_scope:  # used like a function
    """A read-only session that is always rolled back and closed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._session = sessions()

    async def __aenter__(self) -> AsyncSession:
        return self._session

    async def __aexit__(self, *_: object) -> None:
        self._session.expunge_all()  # rows stay readable after the session ends
        await self._session.rollback()
        await self._session.close()
