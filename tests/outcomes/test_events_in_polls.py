"""Events applied a poll at a time (a run of them in one transaction) leave the same
indicator inputs as the same events applied one by one, and every unit follows its
person: moved, changed or opted out after their referrals."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from carethread.events import CloudEvent
from carethread.settings import AuthSettings
from outcomes.domain.indicators import INDICATORS
from outcomes.store.tables import GoalFactRow, PersonRow, ReferralFactRow
from tests.outcomes.conftest import Outcomes
from tests.outcomes.events_in import AT, deliver, deliver_in_polls, person_updated
from tests.outcomes.test_events_in import indicator, interleaved, journeys, outcomes_at
from tests.stack import DatabaseFactory


def nhs_number(registered: CloudEvent) -> str:
    number: str = json.loads(registered.to_json_bytes())["data"]["person"]["nhs_number"]
    return number


def later_changes(people: list[list[CloudEvent]]) -> list[CloudEvent]:
    """After their referrals: eight people move to the least deprived quintile and one
    registers a national data opt-out."""
    at = AT + timedelta(days=40)
    numbers = [nhs_number(p[0]) for p in people]
    moved = [
        person_updated(n, at=at, imd_quintile=5, sex="male", borough="Barnet") for n in numbers[:8]
    ]
    return [*moved, person_updated(numbers[8], at=at, national_data_opt_out=True)]


async def published(outcomes: Outcomes) -> dict[str, Any]:
    """Every indicator by two pairs of dimensions that between them read every person
    field a unit copies but the birth date, unrounded."""
    outcomes.settings.round_to, outcomes.settings.suppress_up_to = 1, 0
    out = {}
    for ind in INDICATORS:
        for by in ("imd_quintile,sex", "borough,core20plus5"):
            body = await indicator(outcomes, ind.id, by=by, period="2026")
            body.pop("computed_at")
            out[f"{ind.id}?by={by}"] = body
    return out


def copied_differently(table: type[ReferralFactRow] | type[GoalFactRow]) -> object:
    person = select(PersonRow.imd_quintile).where(PersonRow.person_id == table.person_id)
    return table.person_imd_quintile.is_distinct_from(person.scalar_subquery())


async def test_events_in_polls_give_the_numbers_of_events_one_by_one(
    service_databases: DatabaseFactory, auth: AuthSettings
) -> None:
    people = journeys(40)
    events = interleaved(people, seed=3) + later_changes(people)
    one_url, polls_url = await service_databases("outcomes_one"), await service_databases("polls")
    async with outcomes_at(one_url, auth) as one:
        await deliver(one.app, *events)
        numbers = await published(one)
    async with outcomes_at(polls_url, auth) as polls:
        await deliver_in_polls(polls.app, events, size=23)
        assert await published(polls) == numbers
        for table in (ReferralFactRow, GoalFactRow):
            assert await polls.count(table, copied_differently(table)) == 0
    # Forty referrals, less the one whose person opted out; the movers are in quintile 5.
    received = numbers["referrals-received?by=imd_quintile,sex"]
    assert received["overall"]["value"] == 39
    quintile_5 = [c["value"] for c in received["cells"] if c["group"]["imd_quintile"] == "5"]
    assert sum(quintile_5) == 15  # eight there already, and seven movers
