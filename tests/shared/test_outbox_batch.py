"""The outbox and audit rows a unit of work adds are written with Core statements at its
next flush (explicit, automatic or at commit), not as ORM objects: the same rows, in the
order they were added, gone with a rollback or a savepoint's rollback."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carethread.auth import Principal, record_access
from carethread.db import UnitOfWork
from carethread.db.tables import AuditRow, OutboxRow
from carethread.events import CloudEvent
from carethread.messaging import InMemoryBroker, OutboxRelay, add_to_outbox
from carethread.messaging.outbox import ONE_STATEMENT_MAX_ROWS
from carethread.observability.metrics import ServiceMetrics
from tests.shared.support import TOPIC, EffectRow, database, thing
from tests.shared.test_outbox import publish_all, values


async def outbox_rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
    async with sessions() as s:
        rows = (await s.scalars(select(OutboxRow).order_by(OutboxRow.position))).all()
    return [(r.key, CloudEvent.model_validate_json(r.payload).data["n"]) for r in rows]


async def test_rows_take_positions_in_the_order_they_were_added(database_url: str) -> None:
    async with database(database_url) as (_, sessions):
        async with UnitOfWork(sessions) as uow:
            for n, key in enumerate(["b", "a", "c", "a", "b"]):
                await add_to_outbox(uow, thing(key, n), topic=TOPIC, key=key)
            await uow.commit()
        assert await outbox_rows(sessions) == [("b", 0), ("a", 1), ("c", 2), ("a", 3), ("b", 4)]


async def test_an_explicit_flush_writes_them_and_nothing_else_is_written(
    database_url: str,
) -> None:
    async with database(database_url) as (_, sessions):
        async with UnitOfWork(sessions) as uow:
            event = thing("p", 1)
            await add_to_outbox(uow, event, topic=TOPIC, key="p")
            await uow.session.flush()  # a session with no ORM objects in it
            assert not uow.session.new  # the marker that made the flush happen is gone
            found = await uow.session.scalar(
                select(OutboxRow.event_id).where(OutboxRow.event_id == event.id)
            )
            assert found == event.id  # written by the flush, before commit
            await uow.commit()
        async with sessions() as s:
            row = (await s.scalars(select(OutboxRow))).one()
        assert row.event_id == event.id
        assert row.key == "p"
        assert row.topic == TOPIC
        assert row.event_type == "carethread.thing.counted.v1"
        assert row.headers == {"ce_type": event.type, "ce_id": str(event.id)}
        assert CloudEvent.model_validate_json(row.payload) == event
        assert row.created_at.tzinfo is not None
        assert row.published_at is None


async def test_they_are_written_with_the_orm_objects_of_the_same_flush(database_url: str) -> None:
    async with database(database_url) as (_, sessions):
        async with UnitOfWork(sessions) as uow:
            uow.session.add(EffectRow(event_id=uuid.uuid4(), person="p", n=1))
            await add_to_outbox(uow, thing("p", 1), topic=TOPIC, key="p")
            uow.session.add(EffectRow(event_id=uuid.uuid4(), person="p", n=2))
            await uow.commit()
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(EffectRow)) == 2
        assert await outbox_rows(sessions) == [("p", 1)]


async def test_a_rollback_forgets_them_and_the_session_writes_later_ones(
    database_url: str,
) -> None:
    async with database(database_url) as (_, sessions):
        async with UnitOfWork(sessions) as uow:
            await add_to_outbox(uow, thing("ghost", 1), topic=TOPIC, key="ghost")
            await uow.rollback()
            await add_to_outbox(uow, thing("p", 2), topic=TOPIC, key="p")
            await uow.commit()
        async with UnitOfWork(sessions) as uow:  # left without committing
            await add_to_outbox(uow, thing("ghost", 3), topic=TOPIC, key="ghost")
        assert await outbox_rows(sessions) == [("p", 2)]


async def test_a_savepoint_rolled_back_takes_only_its_own_rows(database_url: str) -> None:
    async with database(database_url) as (_, sessions):
        async with UnitOfWork(sessions) as uow:
            await add_to_outbox(uow, thing("p", 1), topic=TOPIC, key="p")
            try:
                async with uow.session.begin_nested():
                    await add_to_outbox(uow, thing("ghost", 2), topic=TOPIC, key="ghost")
                    raise RuntimeError("this listing is refused")
            except RuntimeError:
                pass
            async with uow.session.begin_nested():
                await add_to_outbox(uow, thing("p", 3), topic=TOPIC, key="p")
            await add_to_outbox(uow, thing("q", 4), topic=TOPIC, key="q")
            await uow.commit()
        assert await outbox_rows(sessions) == [("p", 1), ("p", 3), ("q", 4)]


async def test_rows_are_written_at_commit_even_if_the_session_was_emptied(
    database_url: str,
) -> None:
    async with database(database_url) as (_, sessions):
        async with UnitOfWork(sessions) as uow:
            await add_to_outbox(uow, thing("p", 1), topic=TOPIC, key="p")
            uow.session.expunge_all()
            await uow.commit()
        assert await outbox_rows(sessions) == [("p", 1)]


async def test_audit_records_are_written_with_their_events(database_url: str) -> None:
    principal = Principal(sub="nurse.1", org="F83004", roles=frozenset({"triager", "admin"}))
    person = uuid.uuid4()
    async with database(database_url) as (_, sessions):
        async with UnitOfWork(sessions) as uow:
            await record_access(
                uow,
                principal,
                service="tests",
                action="read",
                resource_type="Referral",
                resource_id="r1",
                person_id=person,
                details={"fields": ["story"]},
            )
            await record_access(
                uow,
                principal,
                service="tests",
                action="search",
                resource_type="Referral",
                resource_id=None,
                person_id=None,
                outcome="denied",
            )
            await uow.commit()
        async with UnitOfWork(sessions) as uow:  # rolled back: neither record nor event
            await record_access(
                uow,
                principal,
                service="tests",
                action="read",
                resource_type="Referral",
                resource_id="r2",
                person_id=person,
            )
        async with sessions() as s:
            records = (await s.scalars(select(AuditRow).order_by(AuditRow.action))).all()
            events = (await s.scalars(select(OutboxRow).order_by(OutboxRow.position))).all()
        assert [(r.action, r.resource_id, r.person_id, r.outcome) for r in records] == [
            ("read", "r1", person, "success"),
            ("search", None, None, "denied"),
        ]
        read, search = records
        assert read.actor == "nurse.1"
        assert read.organisation == "F83004"
        assert read.roles == ["admin", "triager"]
        assert read.purpose == "direct-care"
        assert read.details == {"fields": ["story"]}
        assert search.details is None
        assert read.recorded_at.tzinfo is not None
        assert [(e.key, e.event_type) for e in events] == [
            (str(person), "carethread.audit.recorded.v1"),
            ("nurse.1", "carethread.audit.recorded.v1"),
        ]
        data = [CloudEvent.model_validate_json(e.payload).data for e in events]
        assert [d["audit_id"] for d in data] == [str(read.id), str(search.id)]


@pytest.mark.parametrize("records", [ONE_STATEMENT_MAX_ROWS // 2, ONE_STATEMENT_MAX_ROWS + 1])
async def test_a_flush_of_few_or_many_rows_writes_every_record_and_event_in_order(
    database_url: str, records: int
) -> None:
    """A request's few rows go in one statement on PostgreSQL, a bulk flush's in one per
    table: either way every audit record and event is written, events in the order added."""
    principal = Principal(sub="nurse.1", org="F83004", roles=frozenset({"triager"}))
    people = [uuid.uuid4() for _ in range(records)]
    async with database(database_url) as (_, sessions):
        async with UnitOfWork(sessions) as uow:
            for n, person in enumerate(people):
                await record_access(
                    uow,
                    principal,
                    service="tests",
                    action="read",
                    resource_type="Referral",
                    resource_id=f"r{n}",
                    person_id=person,
                    details={"n": n},
                )
            await uow.commit()
        async with sessions() as s:
            rows = (await s.scalars(select(AuditRow))).all()
            events = (await s.scalars(select(OutboxRow).order_by(OutboxRow.position))).all()
        by_resource = {str(r.resource_id): r for r in rows}
        assert sorted(by_resource) == sorted(f"r{n}" for n in range(records))
        assert [by_resource[f"r{n}"].details for n in range(records)] == [
            {"n": n} for n in range(records)
        ]
        assert [by_resource[f"r{n}"].person_id for n in range(records)] == people
        assert [e.key for e in events] == [str(p) for p in people]
        audit_ids = [CloudEvent.model_validate_json(e.payload).data["audit_id"] for e in events]
        assert audit_ids == [str(by_resource[f"r{n}"].id) for n in range(records)]


async def test_the_relay_marks_what_it_sent_and_never_sends_it_again(
    database_url: str, topic_prefix: str
) -> None:
    """Marking a batch and reading the next (one statement on PostgreSQL) leaves the
    batch being marked out of the next."""
    async with database(database_url) as (engine, sessions):
        broker = InMemoryBroker()
        relay = OutboxRelay(
            service="tests",
            engine=engine,
            publisher=broker.publisher(),
            topics=[TOPIC],
            topic_prefix=topic_prefix,
            metrics=ServiceMetrics("tests"),
            batch_size=3,  # seven rows: three batches, each marked by the next call
        )
        async with UnitOfWork(sessions) as uow:
            for n in range(7):
                await add_to_outbox(uow, thing("p", n), topic=TOPIC, key="p")
            await uow.commit()
        await publish_all(relay, broker)
        assert values(await broker.read_all(topic_prefix + TOPIC)) == [("p", n) for n in range(7)]
        async with sessions() as s:
            unpublished = await s.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.published_at.is_(None))
            )
        assert unpublished == 0
