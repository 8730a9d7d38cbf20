"""Synthetic demo measures for ``make run``: before and after SWEMWBS and ONS4 for every
demo person the front door announces (and GAD-7 and PHQ-9 for some), recorded by a demo
loader, with the chance of a meaningful improvement rising from the most to the least
deprived quintile so the deprivation gradient shows in every wellbeing indicator.

It runs as a background job, since the people arrive as events from the front door's own
demo data: it waits until they stop arriving, then records once (a restart with data kept
finds measures and does nothing).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from carethread.auth import Principal
from carethread.observability.logging import get_logger
from carethread.service import ServiceRuntime
from outcomes import use_cases
from outcomes.api.schemas import MeasureContext, MeasureCreate
from outcomes.store.tables import MeasureRow, PersonRow, ReferralFactRow

log = get_logger(__name__)
LOADER = Principal(sub="demo-loader", name="Demo loader", org="93C", roles=frozenset({"admin"}))
WAIT_SECONDS = 300
QUIET_SECONDS = 8  # no new people for this long: the front door's demo is done
SEED = 20261130


def improvement_chance(quintile: int | None) -> float:
    """35% in the most deprived quintile rising to 75% in the least."""
    return 0.35 + 0.10 * ((quintile or 3) - 1)


def swemwbs_pair(rng: random.Random, quintile: int | None, improves: bool) -> list[list[int]]:
    low = 1 if (quintile or 3) <= 2 else 2
    before = [rng.randint(low, 3) for _ in range(7)]
    lift = 7 if improves else rng.choice([-1, 0, 1])  # +1 on every item: >= 3 metric points
    after = list(before)
    for i in range(abs(lift)):
        j = i % 7
        after[j] = max(1, min(5, after[j] + (1 if lift > 0 else -1)))
    return [before, after]


def ons4_pair(rng: random.Random, quintile: int | None, improves: bool) -> list[list[int]]:
    base = rng.randint(2, 4) + (quintile or 3) // 2
    before = [base, base + 1, base, 7 - (quintile or 3) // 2]
    step = 2 if improves else 0
    after = [
        min(10, before[0] + step),
        before[1],
        min(10, before[2] + step),
        max(0, before[3] - step),
    ]
    return [before, after]


def symptom_pair(rng: random.Random, items: int, improves: bool, drop: int) -> list[list[int]]:
    before = [rng.randint(1, 3) for _ in range(items)]
    after = list(before)
    for i in range(drop if improves else 1):
        after[i % items] = max(0, after[i % items] - 1)
    return [before, after]


def _improvers(people: Sequence[tuple[uuid.UUID, int | None]]) -> set[uuid.UUID]:
    """In each quintile, the share ``improvement_chance`` of its people (by id), so the
    gradient shows however few people there are."""
    by_quintile: dict[int | None, list[uuid.UUID]] = defaultdict(list)
    for person_id, quintile in people:
        by_quintile[quintile].append(person_id)
    chosen: set[uuid.UUID] = set()
    for quintile, ids in by_quintile.items():
        n = len(ids)
        chosen.update(
            pid for k, pid in enumerate(ids) if (k + 0.5) / n < improvement_chance(quintile)
        )
    return chosen


async def _people_settled(runtime: ServiceRuntime) -> int:
    deadline, last, last_change = time.monotonic() + WAIT_SECONDS, -1, time.monotonic()
    while time.monotonic() < deadline:
        async with runtime.uow() as uow:
            count = int(await uow.session.scalar(select(func.count()).select_from(PersonRow)) or 0)
        if count != last:
            last, last_change = count, time.monotonic()
        elif count and time.monotonic() - last_change >= QUIET_SECONDS:
            return count
        await asyncio.sleep(1)
    return max(last, 0)


async def _record(
    runtime: ServiceRuntime,
    person_id: uuid.UUID,
    instrument: str,
    answers: list[list[int]],
    context: MeasureContext,
    start: datetime,
) -> None:
    for n, items in enumerate(answers):
        body = MeasureCreate(
            person_id=person_id,
            instrument=instrument,
            answers=[float(a) for a in items],
            context=context,
            recorded_at=start + timedelta(weeks=10 * n),
        )
        async with runtime.uow() as uow:
            await use_cases.record_measure(uow, body, LOADER, now=datetime.now(UTC))
            await uow.commit()


async def record_demo_measures(runtime: ServiceRuntime, *, now: datetime) -> int:
    """Before/after measures for every known person; returns how many people."""
    async with runtime.uow() as uow:
        if await uow.session.scalar(select(func.count()).select_from(MeasureRow)):
            return 0
        people = (
            await uow.session.execute(
                select(PersonRow.person_id, PersonRow.imd_quintile).order_by(PersonRow.person_id)
            )
        ).all()
        prescribed = dict(
            (
                await uow.session.execute(
                    select(ReferralFactRow.person_id, ReferralFactRow.referral_id)
                    .where(ReferralFactRow.social_prescription.is_(True))
                    .order_by(ReferralFactRow.referral_id)
                )
            ).all()
        )
    rng = random.Random(SEED)
    ordered = sorted(people, key=lambda p: str(p[0]))  # the same order on every database
    improvers = _improvers(ordered)
    for i, (person_id, q) in enumerate(ordered):
        referral = prescribed.get(person_id)
        context = (
            MeasureContext(social_prescription=str(referral))
            if referral
            else MeasureContext(review="demo-wellbeing-review")
        )
        start = now - timedelta(weeks=12, days=rng.randrange(0, 60))
        improves = person_id in improvers
        await _record(runtime, person_id, "swemwbs", swemwbs_pair(rng, q, improves), context, start)
        await _record(runtime, person_id, "ons4", ons4_pair(rng, q, improves), context, start)
        if i % 3 == 0:
            await _record(
                runtime, person_id, "gad7", symptom_pair(rng, 7, improves, 5), context, start
            )
        if i % 3 == 1:
            await _record(
                runtime, person_id, "phq9", symptom_pair(rng, 9, improves, 7), context, start
            )
    return len(people)


async def load_demo_measures(runtime: ServiceRuntime) -> None:
    """Background job: once the front door's demo people have arrived, record theirs."""
    if not runtime.settings.load_demo_data:
        return
    try:
        await _people_settled(runtime)
        count = await record_demo_measures(runtime, now=datetime.now(UTC))
        log.info("demo measures recorded", people=count)
    except asyncio.CancelledError:
        raise
    except Exception:  # demo data is a convenience: the service runs on without it
        log.exception("demo measures could not be recorded")
