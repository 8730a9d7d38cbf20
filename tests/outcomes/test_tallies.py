"""Indicator tallies: kept in step with the units by every writer (events a poll at a
time, measures recorded, a national opt-out list), they hold exactly what counting them
afresh from the units gives, and a breakdown read from them publishes exactly what one
counted from the units publishes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carethread.events import CloudEvent
from carethread.service import ServiceRuntime
from carethread.settings import AuthSettings
from outcomes.domain import tallies as rules
from outcomes.domain.indicators import BY_ID, Dimension
from outcomes.domain.periods import parse_period
from outcomes.store import tallies
from outcomes.store.indicators import DIMENSION_COLUMNS
from outcomes.store.tables import IndicatorTallyRow, IndicatorTallyStateRow
from tests.outcomes.conftest import Outcomes
from tests.outcomes.events_in import VCSE_SERVICE, deliver_in_polls
from tests.outcomes.test_events_in import interleaved, journeys, outcomes_at
from tests.outcomes.test_events_in_polls import later_changes, nhs_number, published
from tests.stack import DatabaseFactory


def _rows(session: Session) -> list[tuple[Any, ...]]:
    """Every tally that counts something, in key order."""
    found = session.execute(
        select(IndicatorTallyRow).where(IndicatorTallyRow.denominator != 0)
    ).scalars()
    return sorted(
        (
            r.indicator_id,
            r.grouping,
            r.day,
            r.person_imd_quintile,
            r.person_in_plus_group,
            r.person_sex,
            r.person_borough,
            r.person_ethnicity_code,
            r.person_neighbourhood,
            r.numerator,
            r.denominator,
        )
        for r in found
    )


def _rebuilt(session: Session) -> list[tuple[Any, ...]]:
    tallies.rebuild(session)
    rows = _rows(session)
    session.rollback()
    return rows


async def _in_database(app: FastAPI, work: Any, *, commit: bool = False) -> Any:
    runtime: ServiceRuntime = app.state.runtime
    async with runtime.uow() as uow:
        out = await uow.session.run_sync(work)
        if commit:
            await uow.commit()
    return out


async def _built(app: FastAPI) -> None:
    """The service builds the tallies when it starts: wait for it."""
    for _ in range(200):
        if not await _in_database(app, tallies.stale):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the tallies were never built")


async def _record_before_and_after(o: Outcomes, person_id: uuid.UUID, referral_id: str) -> None:
    worker = o.as_(roles=["practitioner"], org="VCS01", teams=[VCSE_SERVICE], sub="lw.ana")
    for answers, later in (([2, 2, 2, 2, 2, 2, 2], 0), ([4, 4, 5, 4, 4, 5, 4], 70)):
        o.clock.now = datetime(2026, 9, 7, 9, tzinfo=UTC) + timedelta(days=later)
        body = {
            "person_id": str(person_id),
            "instrument": "swemwbs",
            "answers": answers,
            "context": {"referral_id": referral_id},
        }
        r = await o.client.post("/api/v1/measures", json=body, headers=worker)
        assert r.status_code == 201, r.text


async def test_kept_tallies_equal_tallies_counted_afresh_and_publish_what_the_units_do(
    service_databases: DatabaseFactory, auth: AuthSettings
) -> None:
    people = journeys(40)
    events: list[CloudEvent] = interleaved(people, seed=5) + later_changes(people)
    async with outcomes_at(await service_databases("outcomes_tallies"), auth) as o:
        await _built(o.app)
        await deliver_in_polls(o.app, events, size=17)
        # Measures recorded for the social-prescribed people (journeys 0 and 1 of 4).
        for n in (0, 1, 4, 5, 8, 9, 12):
            registered, received = people[n][0], people[n][1]
            await _record_before_and_after(
                o, uuid.UUID(str(received.personid)), str(received.data["referral_id"])
            )
            assert registered.personid == received.personid
        # Two of them on the national opt-out list.
        r = await o.client.put(
            "/api/v1/data-opt-outs",
            json={"nhs_numbers": [nhs_number(people[n][0]) for n in (1, 4)]},
            headers=o.as_(roles=["admin"]),
        )
        assert r.status_code == 200, r.text

        kept = await _in_database(o.app, _rows)
        assert kept == await _in_database(o.app, _rebuilt)
        assert {row[0] for row in kept} >= {
            "wellbeing-improved-after-social-prescribing", "referrals-received", "goals-achieved",
        }  # fmt: skip

        from_tallies = await published(o)
        # With no tallies built, the same breakdowns are counted from the units.
        await _in_database(o.app, lambda s: s.execute(delete(IndicatorTallyStateRow)), commit=True)
        assert await published(o) == from_tallies


async def test_breakdowns_read_tallies_once_built_except_by_age_band(outcomes: Outcomes) -> None:
    await _built(outcomes.app)
    runtime: ServiceRuntime = outcomes.app.state.runtime
    uptake, fy = BY_ID["social-prescription-uptake"], parse_period("FY2026")
    async with runtime.uow() as uow:
        by_sex = await tallies.counts(uow, uptake, [Dimension.SEX, Dimension.IMD_QUINTILE], fy)
        by_age = await tallies.counts(uow, uptake, [Dimension.AGE_BAND], fy)
    assert by_sex == []
    assert by_age is None


def test_every_breakdown_but_age_band_has_a_grouping() -> None:
    others = [d for d in Dimension if d is not Dimension.AGE_BAND]
    for first in others:
        for second in others:
            fields = [*DIMENSION_COLUMNS[first], *DIMENSION_COLUMNS[second], rules.IMD]
            assert rules.grouping_for(fields) is not None, (first, second)
    assert rules.grouping_for(["person_birth_date", rules.IMD]) is None


def _unit(**values: object) -> dict[str, object]:
    base: dict[str, object] = dict.fromkeys(rules.UNKNOWN_VALUES)
    base.update(person_opted_out=False, person_social_prescribed=None, person_has_care_plan=None)
    return base | values


def test_a_unit_counts_as_the_query_counts_it() -> None:
    accepted = BY_ID["accepted-with-care-plan"]
    counted: dict[rules.TallyKey, rules.Tally] = {}
    at = datetime(2026, 5, 1, 23, 30, tzinfo=UTC)
    rules.add_unit(counted, [accepted], _unit(decision="accept", triaged_at=at))
    rules.add_unit(counted, [accepted], _unit(decision=None, triaged_at=at))  # NULL: not equal
    rules.add_unit(counted, [accepted], _unit(decision="accept", triaged_at=at,
                                              person_opted_out=True))  # fmt: skip
    moved = rules.changed(counted)
    assert len(moved) == len(rules.GROUPINGS)  # one unit, in every grouping
    assert {k[2] for k in moved} == {date(2026, 5, 1)}
    # The person's care plan unknown: not in the numerator, as SQL's IS TRUE decides.
    assert {(t.numerator, t.denominator) for t in moved.values()} == {(0, 1)}
    rules.add_unit(counted, [accepted], _unit(decision="accept", triaged_at=at), sign=-1)
    assert rules.changed(counted) == {}
