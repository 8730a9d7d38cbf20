"""A tiny event-driven 'service' for testing the messaging machinery on its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import ClassVar

from sqlalchemy import Integer, String, Uuid, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carethread.db import UnitOfWork, create_engine, migrate, new_metadata, session_factory
from carethread.events import CloudEvent, Event, EventData, EventRegistry, new_event
from carethread.messaging import EventRouter, add_to_outbox

registry = EventRegistry()
TOPIC = "carethread.test-things.v1"


@registry.register
class ThingCountedV1(EventData):
    event_type: ClassVar[str] = "carethread.thing.counted.v1"
    topic: ClassVar[str] = TOPIC
    source_service: ClassVar[str] = "tests"

    person: str
    n: int
    fail: bool = False


class Base(DeclarativeBase):
    metadata = new_metadata()


class EffectRow(Base):
    """One row per applied event: a second application would be a second row."""

    __tablename__ = "test_effect"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person: Mapped[str] = mapped_column(String(50))
    n: Mapped[int] = mapped_column(Integer)


class Switch:
    failing = True


def make_router(switch: Switch) -> EventRouter:
    router = EventRouter(registry)

    @router.on(ThingCountedV1)
    async def on_thing(event: Event[ThingCountedV1], uow: UnitOfWork) -> None:
        uow.session.add(EffectRow(event_id=event.id, person=event.data.person, n=event.data.n))
        if event.data.fail and switch.failing:
            raise RuntimeError(f"cannot count thing {event.data.n}")

    return router


def thing(person: str, n: int, *, fail: bool = False) -> CloudEvent:
    return new_event(
        ThingCountedV1(person=person, n=n, fail=fail), subject=person, person_id=None, sequence=n
    )


@asynccontextmanager
async def database(url: str) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession]]]:
    engine = create_engine(url)
    await migrate(engine, None)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    try:
        yield engine, session_factory(engine)
    finally:
        await engine.dispose()


async def write_things(
    sessions: async_sessionmaker[AsyncSession], events: list[CloudEvent]
) -> None:
    for e in events:
        async with UnitOfWork(sessions) as uow:
            await add_to_outbox(uow, e, topic=TOPIC, key=e.subject)
            await uow.commit()


async def effects(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
    async with sessions() as s:
        rows = (await s.execute(select(EffectRow.person, EffectRow.n).order_by(EffectRow.id))).all()
    return [(p, n) for p, n in rows]
