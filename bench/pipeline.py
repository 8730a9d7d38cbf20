"""What both sides of the benchmark share: a throwaway event type, the consumer's effect
table, the databases and the client settings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import ClassVar

from sqlalchemy import Integer, String, Uuid
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carethread.db import create_engine, migrate, new_metadata, session_factory
from carethread.events import CloudEvent, EventData, EventRegistry, new_event
from carethread.settings import KafkaSettings, ServiceSettings
from carethread.testing.apps import tansu_kafka_settings
from carethread.testing.databases import temporary_postgres_database

registry = EventRegistry()
TOPIC = "carethread.bench-things.v1"
CONSUMER = "bench"
BACKENDS = ("sqlite", "postgres")


@registry.register
class ThingHappenedV1(EventData):
    """Shaped like a real event: ids, codes and statuses, no narrative."""

    event_type: ClassVar[str] = "carethread.bench.thing-happened.v1"
    topic: ClassVar[str] = TOPIC
    source_service: ClassVar[str] = "bench"

    thing_id: uuid.UUID
    person_id: uuid.UUID
    n: int
    status: str = "received"
    urgency: str = "routine"
    source: str = "gp"
    practice_code: str = "F83004"
    reasons: tuple[str, ...] = ("isolation", "falls")


class Base(DeclarativeBase):
    metadata = new_metadata()


class EffectRow(Base):
    """The consumer's trivial effect: one row per applied event, keyed by the thing's id
    (no separate sequence, so no primary key to read back after each insert)."""

    __tablename__ = "bench_effect"
    thing_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person: Mapped[str] = mapped_column(String(50))
    n: Mapped[int] = mapped_column(Integer)


def person_key(n: int, people: int = 1000) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_OID, f"bench-person-{n % people}")


def thing(n: int) -> CloudEvent:
    person = person_key(n)
    return new_event(
        ThingHappenedV1(thing_id=uuid.uuid4(), person_id=person, n=n),
        subject=str(person),
        person_id=person,
        neighbourhood="U02795",
        sequence=n,
    )


def kafka_settings(bootstrap: str, prefix: str) -> KafkaSettings:
    """The client settings that suit Tansu, exactly as ``carethread dev`` and the tests use."""
    return tansu_kafka_settings(bootstrap, prefix)


def service_default(name: str) -> int:
    """A service setting's library default (relay batch size, poll interval, ...)."""
    value = ServiceSettings.model_fields[name].default
    assert isinstance(value, int)
    return value


def consumer_poll_timeout_ms(kafka: KafkaSettings) -> int:
    """What ``create_service_app`` gives its consumer."""
    return max(kafka.fetch_max_wait_ms * 2, 200)


@asynccontextmanager
async def database_url(backend: str, workdir: Path, name: str) -> AsyncIterator[str]:
    """A fresh database: a SQLite file in ``workdir``, or a PostgreSQL database dropped after."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / name}.db"
        return
    async with temporary_postgres_database(f"ct_bench_{name}") as url:
        yield url


@asynccontextmanager
async def open_database(
    url: str, *, effects: bool = False
) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession]]]:
    engine = create_engine(url)
    await migrate(engine, None)
    if effects:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    try:
        yield engine, session_factory(engine)
    finally:
        await engine.dispose()
