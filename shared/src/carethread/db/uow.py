"""The unit of work: one transaction per entrypoint (an HTTP request or a Kafka message).

Domain rows, outbox rows, the inbox row and audit rows are added to one session and
committed together by the entrypoint; use cases only flush. An entrypoint that only reads
may say so (``only_reads``) and run its statements without a transaction on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carethread.db.engine import on_postgres


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._on_commit = on_commit
        self._session: AsyncSession | None = None
        self._wrote_events = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    @property
    def is_postgres(self) -> bool:
        return on_postgres(self.session)

    async def only_reads(self) -> None:
        """Say, before its first statement, that this unit of work only reads. On
        PostgreSQL each of its statements then runs on its own (autocommit), each seeing
        what was committed when it started: no ``BEGIN`` and ``ROLLBACK`` round trips
        around a request that is a single query. SQLite keeps its transaction, whose
        ``BEGIN`` goes to the driver without a round trip."""
        if self.is_postgres:
            await self.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

    def events_written(self) -> None:
        """Called by the outbox writer so commit can wake the relay."""
        self._wrote_events = True

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._wrote_events = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is not None:
            # Anything not committed explicitly is rolled back: nothing half-written.
            await session.rollback()
            await session.close()

    async def commit(self) -> None:
        await self.session.commit()
        if self._wrote_events and self._on_commit is not None:
            self._on_commit()
        self._wrote_events = False

    async def rollback(self) -> None:
        await self.session.rollback()
