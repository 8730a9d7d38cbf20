"""Two consumers in the view's group (``MDT_WORKERS=2``, or two replicas) apply their own
partitions at the same time: the view they build together is the one a single consumer
builds. Topics are co-partitioned, so a person's events normally reach one consumer; here
they are dealt to both (as during a rebalance, or with topics partitioned otherwise), the
hard case the view's per-person locks are for. The rows every consumer writes (freshness,
the streams' change counters) are merged by the database. No update may be lost."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from carethread.events import CloudEvent
from carethread.testing.databases import temporary_postgres_database
from mdt.store import poll as poll_module
from mdt.store.shared_rows import count_changes
from mdt.store.tables import CaseloadReferralRow, NeighbourhoodChangeRow, SourceFreshnessRow
from tests.mdt.history import START, TOPIC, Person, Referral, history, topic_of
from tests.mdt.support import view

PARTITIONS = 3  # per topic, as the platform creates them
RACE_NHS_NUMBER = "9990042446"


def _consumer_of(event: CloudEvent) -> int:
    """Which of two consumers gets the event: its key's partition of its topic, the
    topic-partitions dealt round robin, so one person's events go to both."""
    key = event.personid or event.subject
    dealt = sorted((topic, p) for topic in TOPIC.values() for p in range(PARTITIONS))
    return dealt.index((topic_of(event), zlib.crc32(key.encode()) % PARTITIONS)) % 2


async def test_two_consumers_at_once_build_the_view_one_builds(postgres_url: str) -> None:
    events = history(80, seed=11)
    rng = random.Random(2)
    shares: list[list[CloudEvent]] = [[], []]
    for event in events:
        shares[_consumer_of(event)].append(event)
    for share in shares:
        rng.shuffle(share)  # each consumer's topics interleave any old way
    assert all(len(share) > 200 for share in shares)
    single_order = events[:]
    rng.shuffle(single_order)

    async with (
        temporary_postgres_database() as other_url,
        view(postgres_url) as first,
        view(postgres_url) as second,
        view(other_url) as single,
    ):
        # Small polls, so the two consumers' transactions overlap many times.
        await asyncio.gather(first.apply(shares[0], batch=15), second.apply(shares[1], batch=15))
        await single.apply(single_order, batch=100)

        together, alone = await first.contents(), await single.contents()
        assert together == alone
        async with first.sessions() as session:
            applied = sum((await session.scalars(select(SourceFreshnessRow.events_applied))).all())
        assert applied == len(events)


async def test_a_neighbourhood_counter_moved_by_two_transactions_at_once_moves_twice(
    postgres_url: str,
) -> None:
    async with view(postgres_url) as v:
        person = uuid.uuid4()
        now = datetime.now(UTC)
        async with v.sessions() as first, v.sessions() as second:
            await first.run_sync(lambda s: count_changes(s, {"U84655": person}, now))
            # The second waits for the first's row lock; it must add to the first's count.
            waiting = asyncio.create_task(
                second.run_sync(lambda s: count_changes(s, {"U84655": person}, now))
            )
            await asyncio.sleep(0.2)
            assert not waiting.done()
            await first.commit()
            await waiting
            await second.commit()
        async with v.sessions() as session:
            version = await session.scalar(
                select(NeighbourhoodChangeRow.version).where(
                    NeighbourhoodChangeRow.neighbourhood == "U84655"
                )
            )
        assert version == 2


async def test_a_referrals_events_under_both_ids_of_a_merge_lose_nothing_at_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A referral's intake carries the id the front door minted; its triage, after a trace,
    the person's NHS-number id. Before the merge is applied the two ids' locks do not keep
    two consumers apart: both would find no row and start it from blank, and the later
    upsert would undo the other's change. Here both reach that point together (held there
    for up to a second each); the view must still hold the intake and the triage."""
    person = Person(1)
    referral = Referral(person)
    received = person.referred(referral, START)
    merge = person.traced(START + timedelta(days=2), nhs_number=RACE_NHS_NUMBER)
    triaged = referral.triaged(START + timedelta(days=3), "accept", "accepted")

    arrived, both = 0, asyncio.Event()

    async def meet() -> None:
        nonlocal arrived
        arrived += 1
        if arrived >= 2:
            both.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), 1.0)

    read = poll_module._stored

    def read_then_meet(session: Session, table: Table, keys: Iterable[Any]) -> dict[Any, Any]:
        found = read(session, table, keys)
        if table.name == "caseload_referral":
            await_only(meet())
        return found

    monkeypatch.setattr(poll_module, "_stored", read_then_meet)
    async with view(postgres_url) as first, view(postgres_url) as second:
        await asyncio.gather(first.apply([received]), second.apply([triaged]))
        monkeypatch.undo()
        await first.apply([merge])
        async with first.sessions() as session:
            row = await session.get(CaseloadReferralRow, referral.referral_id)
    assert row is not None
    assert (row.received, row.given_name, row.status) == (True, person.given_name, "accepted")
    assert row.person_id == person.person_id  # the NHS number's id, once merged
