"""What a running service holds: built in the lifespan, stopped there, never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from carethread.auth.tokens import TokenVerifier
from carethread.db.migrate import MigrationSource
from carethread.db.uow import UnitOfWork
from carethread.messaging.broker import Broker
from carethread.messaging.consumer import EventConsumer
from carethread.messaging.outbox import OutboxRelay
from carethread.messaging.router import EventRouter
from carethread.observability.metrics import ServiceMetrics
from carethread.settings import ServiceSettings


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: Broker
    relay: OutboxRelay
    consumer: EventConsumer | None
    verifier: TokenVerifier
    metrics: ServiceMetrics

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, on_commit=self.relay.notify)


DemoLoader = Callable[[ServiceRuntime], Awaitable[None]]
# A job that runs for the life of the process (e.g. a clock watching for deadlines); it is
# started after migrations and cancelled at shutdown, and must survive its own errors.
BackgroundJob = Callable[[ServiceRuntime], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class ServiceDefinition:
    """Everything that makes one service different from another."""

    name: str
    title: str
    description: str
    migrations: MigrationSource
    routers: Sequence[APIRouter] = ()
    publishes: Sequence[str] = ()
    consumes: EventRouter = field(default_factory=EventRouter)
    demo_data: DemoLoader | None = None
    background: Sequence[BackgroundJob] = ()
    version: str = "0.1.0"
    # Run-time parameters of every PostgreSQL connection (``db.create_engine``).
    postgres_settings: Mapping[str, str] = field(default_factory=dict)


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> ServiceRuntime:
    """The running service. A coroutine on purpose: FastAPI runs a plain function dependency
    in its thread pool, a thread hop (and a GIL hand-over) on every request."""
    return runtime_of(request)


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    async with runtime_of(request).uow() as uow:
        yield uow


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]
# scope="function": the session is closed (and anything uncommitted rolled back) before
# the response is sent. Routes commit explicitly, so a failed commit is an error response.
UoWDep = Annotated[UnitOfWork, Depends(get_uow, scope="function")]
