"""Demo measures for ``make run``: before and after for every demo person, recorded once,
with the deprivation gradient visible in the wellbeing indicators."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select

from carethread.db import create_engine, session_factory
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.service import ServiceRuntime
from outcomes.demo import record_demo_measures
from outcomes.store.tables import MeasureChangeRow, MeasureRow, PersonRow
from tests.outcomes.conftest import Outcomes
from tests.outcomes.events_in import deliver, person_registered, referral_received, referral_triaged

NUMBERS = synthetic_nhs_numbers(start=65_000)
PER_QUINTILE = 12


async def improved_share_by_quintile(outcomes: Outcomes) -> dict[int, float]:
    engine = create_engine(outcomes.settings.database_url)
    async with session_factory(engine)() as s:
        rows = (
            await s.execute(
                select(PersonRow.imd_quintile, MeasureChangeRow.direction)
                .join(PersonRow, PersonRow.person_id == MeasureChangeRow.person_id)
                .where(MeasureChangeRow.instrument == "swemwbs", MeasureChangeRow.scale == "metric")
            )
        ).all()
    await engine.dispose()
    improved: dict[int, list[bool]] = defaultdict(list)
    for quintile, direction in rows:
        assert quintile is not None
        improved[quintile].append(direction == "improved")
    return {q: sum(flags) / len(flags) for q, flags in improved.items()}


async def test_every_demo_person_gets_before_and_after_with_a_gradient(outcomes: Outcomes) -> None:
    events = []
    for quintile in (1, 2, 3, 4, 5):
        for i in range(PER_QUINTILE):
            nhs = next(NUMBERS)
            pid, rid = person_id_for_nhs_number(nhs), uuid.uuid4()
            events += [
                person_registered(nhs, imd_quintile=quintile),
                referral_received(pid, rid, imd_quintile=quintile),
            ]
            if i % 2:
                events.append(referral_triaged(pid, rid))
    await deliver(outcomes.app, *events)
    runtime: ServiceRuntime = outcomes.app.state.runtime
    now = datetime.now(UTC)
    assert await record_demo_measures(runtime, now=now) == 5 * PER_QUINTILE
    people = 5 * PER_QUINTILE
    # SWEMWBS and ONS4 before and after for everyone; GAD-7 or PHQ-9 for two in three.
    assert await outcomes.count(MeasureRow) == people * 4 + 40 * 2
    assert await outcomes.count(MeasureRow, MeasureRow.recorded_by == "demo-loader") == (
        people * 4 + 80
    )
    shares = await improved_share_by_quintile(outcomes)
    assert shares[1] < shares[3] < shares[5], shares
    # Loaded once: a restart with the data kept records nothing more.
    assert await record_demo_measures(runtime, now=now) == 0
    r = await outcomes.client.get(
        "/api/v1/indicators/wellbeing-improved-after-social-prescribing",
        params={"by": "imd_quintile"},
        headers=outcomes.as_(roles=["analyst"], org="93C"),
    )
    assert r.status_code == 200
    assert r.json()["overall"]["denominator"] == 30  # the 30 social-prescribed people
