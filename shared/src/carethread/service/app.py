"""``create_service_app``: one FastAPI app factory for every service.

Nothing happens at import: the engine, migrations, broker clients, the outbox relay and
the consumer are built in the lifespan and stopped there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.engine import make_url
from starlette.types import ASGIApp

from carethread.auth.tokens import TokenVerifier
from carethread.db.engine import create_engine, session_factory
from carethread.db.migrate import migrate
from carethread.errors import install_problem_handlers
from carethread.messaging.broker import Broker
from carethread.messaging.consumer import EventConsumer
from carethread.messaging.kafka import KafkaBroker
from carethread.messaging.outbox import OutboxRelay
from carethread.observability.logging import configure_logging, get_logger
from carethread.observability.metrics import ServiceMetrics
from carethread.observability.tracing import configure_tracing
from carethread.service.collector import set_collector
from carethread.service.health import router as health_router
from carethread.service.middleware import ObservabilityMiddleware, ProblemForOversizedBody
from carethread.service.runtime import ServiceDefinition, ServiceRuntime
from carethread.settings import ServiceSettings

log = get_logger(__name__)


class ServiceApp(FastAPI):
    """FastAPI with a problem+json 413 wrapped around the whole middleware stack."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if self.max_body_size is None:
            return stack
        return ProblemForOversizedBody(stack, self.max_body_size)


class InsecureConfiguration(RuntimeError):
    pass


def _check_production(settings: ServiceSettings) -> None:
    if settings.environment == "production" and not settings.auth.jwks_url:
        raise InsecureConfiguration(
            "production refuses to start with the dev signing key: "
            "set CARETHREAD_AUTH_JWKS_URL to the identity provider's JWKS"
        )


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def create_service_app(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    *,
    broker: Broker | None = None,
) -> FastAPI:
    """Build the app; ``broker`` replaces the Kafka adapter (tests use the in-memory one)."""
    _check_production(settings)
    metrics = ServiceMetrics(definition.name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, json=settings.log_json, service=definition.name)
        configure_tracing()
        set_collector()
        _ensure_sqlite_dir(settings.database_url)
        engine = create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            postgres_settings=definition.postgres_settings,
        )
        await migrate(engine, definition.migrations)
        sessions = session_factory(engine)
        chosen_broker: Broker = broker or KafkaBroker(settings.kafka)
        prefix = settings.kafka.topic_prefix
        relay = OutboxRelay(
            service=definition.name,
            engine=engine,
            publisher=chosen_broker.publisher(),
            topics=definition.publishes,
            topic_prefix=prefix,
            metrics=metrics,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval_ms / 1000,
            linger=settings.relay_linger_ms / 1000,
        )
        consumer = (
            EventConsumer(
                name=definition.name,
                router=definition.consumes,
                sessions=sessions,
                broker=chosen_broker,
                topic_prefix=prefix,
                metrics=metrics,
                max_attempts=settings.consumer_max_attempts,
                retry_backoff=settings.consumer_retry_backoff_ms / 1000,
                poll_timeout_ms=max(settings.kafka.fetch_max_wait_ms * 2, 200),
            )
            if definition.consumes
            else None
        )
        runtime = ServiceRuntime(
            settings=settings,
            engine=engine,
            sessions=sessions,
            broker=chosen_broker,
            relay=relay,
            consumer=consumer,
            verifier=TokenVerifier(settings.auth),
            metrics=metrics,
        )
        app.state.runtime = runtime
        tasks = [asyncio.create_task(relay.run(), name=f"{definition.name}-relay")]
        if consumer is not None:
            tasks.append(asyncio.create_task(consumer.run(), name=f"{definition.name}-consumer"))
        for job in definition.background:
            name = f"{definition.name}-{getattr(job, '__name__', 'job')}"
            tasks.append(asyncio.create_task(job(runtime), name=name))
        log.info(
            "service started",
            port=settings.port,
            database=make_url(settings.database_url).get_backend_name(),
        )
        try:
            if settings.load_demo_data and definition.demo_data is not None:
                await definition.demo_data(runtime)
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await engine.dispose()
            log.info("service stopped")

    app = ServiceApp(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        # FastAPI's own OpenTelemetry layer would wrap every request in a second server span
        # (and a span per dependency) around ObservabilityMiddleware's, which already carries
        # the caller's trace context, the metrics and the traceparent reply header: measured
        # at 0.2-0.3 ms of CPU a request for nothing a deployment reads.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_problem_handlers(app)
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    app.include_router(health_router)
    for router in definition.routers:
        app.include_router(router)
    return app


def serve(app_factory: str, settings: ServiceSettings) -> None:
    """Run one service in the foreground (what ``python -m <service>`` does).

    ``app_factory`` names the service's ``create_app`` (``"referrals.app:create_app"``): with
    several ``workers`` each server process builds its own app from the environment.
    """
    import uvicorn  # noqa: PLC0415  # only a process that serves needs the server

    if settings.workers > 1 and settings.load_demo_data:
        raise SystemExit(
            f"{settings.service_name}: load the demo data with one worker, then start more"
        )
    uvicorn.run(
        app_factory,
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
