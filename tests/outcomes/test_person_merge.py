"""A person merge (``person.merged``): someone the front door knew without an NHS number is
traced, and the id it minted for them is merged into their NHS number's id. The outcomes
service then holds one person — every unit under the surviving id, with the details the
merge brought, counted once in every indicator, opted out if either id was — whichever
order the merge and the old id's events (and measures) come in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carethread.events import CloudEvent
from carethread.events.referrals import PersonDetails, PersonMergedV1, PersonUpdatedV1
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.settings import AuthSettings
from outcomes.store.tables import (
    CarePlanFactRow,
    CareTeamMemberRow,
    DataOptOutRow,
    GoalFactRow,
    MeasureChangeRow,
    MeasureRow,
    OutcomesBase,
    OverdueActionRow,
    PersonRow,
    ReferralFactRow,
)
from tests.outcomes.conftest import Outcomes
from tests.outcomes.events_in import (
    AT,
    GP_ORG,
    NEIGHBOURHOOD,
    VCSE_SERVICE,
    action_overdue,
    care_plan_created,
    care_team_joined,
    deliver,
    deliver_in_polls,
    envelope,
    goal,
    person_registered,
    referral_moved,
    referral_received,
    referral_triaged,
)
from tests.outcomes.test_events_in import indicator, outcomes_at
from tests.outcomes.test_tallies import _built, _in_database, _rebuilt, _rows
from tests.stack import DatabaseFactory

TRACED_NHS_NUMBER = next(synthetic_nhs_numbers(start=71_000))  # 999 test range
KNOWN = person_id_for_nhs_number(TRACED_NHS_NUMBER)
MINTED = uuid.UUID("0b7e1d2c-4a5f-4c3e-9d8a-6f5e4d3c2b1a")  # the front door's, no NHS number
GP_REFERRAL = uuid.UUID("11111111-1111-4111-8111-111111111111")
OUTREACH_REFERRAL = uuid.UUID("22222222-2222-4222-8222-222222222222")
GOAL = uuid.UUID("33333333-3333-4333-8333-333333333333")
ACTION = uuid.UUID("44444444-4444-4444-8444-444444444444")
MERGED_AT = AT + timedelta(days=30)
# Tables that are the service's state (not its inbox, outbox, audit or bookkeeping).
STATE = sorted(
    set(OutcomesBase.metadata.tables)
    - {"indicator_tally", "indicator_tally_state", "indicator_publication"}
)


@dataclass(frozen=True)
class Measure:
    """A SWEMWBS recorded through the API against ``person_id`` (whatever id the
    practitioner's system holds), taken at ``at``."""

    person_id: uuid.UUID
    answers: tuple[int, ...]
    at: datetime


Step = CloudEvent | Measure


def merge_event(*, opted_out: bool | None = None) -> CloudEvent:
    """The trace found the NHS number: the surviving id's record after the merge, which
    knows their GP (so they are no longer counted as inclusion health) and where they
    live now (IMD quintile 3)."""
    details: dict[str, Any] = {
        "nhs_number": TRACED_NHS_NUMBER,
        "given_name": "Kemi",
        "family_name": "Synthetic",
        "birth_date": date(1952, 2, 29),
        "sex": "female",
        "gp_practice_code": GP_ORG,
        "neighbourhood": NEIGHBOURHOOD,
        "borough": "Islington",
        "imd_quintile": 3,
        "ethnicity_code": "N",
    }
    if opted_out is not None:
        details["national_data_opt_out"] = opted_out
    data = PersonMergedV1(
        person_id=KNOWN,
        merged_person_id=MINTED,
        person=PersonDetails.model_validate(details),
        referral_ids=[OUTREACH_REFERRAL],
        merged_by="front.door",
        merged_at=MERGED_AT,
    )
    return envelope(data, KNOWN, sequence=9)


def minted_updated(at: datetime, **details: Any) -> CloudEvent:
    """A person event for the minted id (from before the merge, or a producer that has
    not applied it)."""
    person = {"given_name": "Kemi", "family_name": "Synthetic", **details}
    data = PersonUpdatedV1(
        person_id=MINTED,
        person=PersonDetails.model_validate(person),
        changed=sorted(details),
        referral_id=OUTREACH_REFERRAL,
        updated_at=at,
    )
    return envelope(data, MINTED, sequence=3)


def history(*, minted_opted_out: bool = False) -> list[Step]:
    """One resident known twice: under their NHS number (a GP referral, social-prescribed,
    measured twice) and under a minted id (a VCSE outreach referral without an NHS number,
    not registered with a GP, IMD quintile 1: social-prescribed and taken up, a care plan,
    a care team, a goal achieved, an action overdue, measured twice — the second time
    after the merge, against the minted id still). In their own order, without the merge."""
    day = timedelta(days=1)
    extra = {"national_data_opt_out": True} if minted_opted_out else {}
    return [
        person_registered(TRACED_NHS_NUMBER, imd_quintile=3),
        referral_received(KNOWN, GP_REFERRAL, at=AT + timedelta(hours=1)),
        referral_triaged(KNOWN, GP_REFERRAL, at=AT + day),
        person_registered(
            None,
            person_id=MINTED,
            at=AT + timedelta(hours=2),
            gp_practice_code=None,
            imd_quintile=1,
            **extra,
        ),
        referral_received(
            MINTED,
            OUTREACH_REFERRAL,
            at=AT + timedelta(hours=2),
            source="vcse",
            imd_quintile=1,
            reasons=("food",),
        ),
        referral_triaged(MINTED, OUTREACH_REFERRAL, at=AT + 2 * day),
        referral_moved(
            MINTED, OUTREACH_REFERRAL, status="in_progress", at=AT + 3 * day, sequence=3
        ),
        care_plan_created(MINTED, at=AT + 3 * day),
        care_team_joined(MINTED, VCSE_SERVICE),
        goal(MINTED, GOAL, achieved=False, version=2),
        action_overdue(MINTED, ACTION, date(2026, 9, 30)),
        Measure(MINTED, (2, 2, 2, 2, 2, 2, 2), AT + 4 * day),
        Measure(KNOWN, (3, 3, 3, 3, 3, 3, 3), AT + 5 * day),
        goal(MINTED, GOAL, achieved=True, version=4),
        Measure(KNOWN, (3, 3, 3, 3, 3, 3, 3), AT + 20 * day),
        # Older than the merge: the merge's details stand, wherever this comes.
        minted_updated(AT + 10 * day, imd_quintile=2, borough="Camden", gp_practice_code=None),
        Measure(MINTED, (4, 4, 5, 4, 4, 5, 4), AT + 60 * day),
    ]


async def run(o: Outcomes, steps: Sequence[Step], *, batch: int = 1) -> None:
    """Hand the events to the consumer ``batch`` at a time and record the measures through
    the API, in the order given."""
    worker = o.as_(roles=["practitioner"], org="VCS01", teams=[VCSE_SERVICE], sub="lw.ana")
    o.clock.now = AT + timedelta(days=100)
    events: list[CloudEvent] = []
    for step in [*steps, None]:
        if isinstance(step, CloudEvent):
            events.append(step)
            continue
        if events:
            await deliver_in_polls(o.app, events, size=batch)
            events = []
        if isinstance(step, Measure):
            body = {
                "person_id": str(step.person_id),
                "instrument": "swemwbs",
                "answers": list(step.answers),
                "recorded_at": step.at.isoformat(),
                "context": {"referral_id": str(OUTREACH_REFERRAL)},
            }
            r = await o.client.post("/api/v1/measures", json=body, headers=worker)
            assert r.status_code == 201, r.text


def _contents(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the service's state, measure ids read as what they measured (they are
    made when a measure is recorded), and the tallies that count something."""
    measures = session.execute(select(MeasureRow.id, MeasureRow.recorded_at)).all()
    label = {m.id: f"measure taken {m.recorded_at.isoformat()}" for m in measures}
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name in STATE:
        table = OutcomesBase.metadata.tables[name]
        columns = [c for c in table.columns if c.name != "event_id" or name != "measure"]
        rows = session.execute(select(*columns)).all()
        out[name] = sorted(
            (
                tuple(label.get(v, v) if isinstance(v, uuid.UUID) else v for v in row)
                for row in rows
            ),
            key=repr,
        )
    out["indicator_tally"] = _rows(session)
    return out


async def contents(o: Outcomes) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = await _in_database(o.app, _contents)
    return found


async def published(o: Outcomes, name: str, by: str = "imd_quintile") -> dict[str, Any]:
    o.settings.round_to, o.settings.suppress_up_to = 1, 0
    return await indicator(o, name, by=by, period="2026")


async def _count(o: Outcomes, model: Any, person_id: uuid.UUID) -> int:
    return await o.count(model, model.person_id == person_id)


async def _person(o: Outcomes) -> Any:
    def read(session: Session) -> Any:
        table = PersonRow.__table__
        row = session.execute(select(table).where(table.c.person_id == KNOWN)).one()
        return SimpleNamespace(**row._asdict())

    person = await _in_database(o.app, read)
    assert person is not None
    return person


UNIT_MODELS = (
    ReferralFactRow, GoalFactRow, OverdueActionRow, MeasureRow, MeasureChangeRow,
    CareTeamMemberRow, CarePlanFactRow, PersonRow,
)  # fmt: skip


async def test_the_merged_person_counts_once_with_all_their_units(outcomes: Outcomes) -> None:
    o = outcomes
    await _built(o.app)
    steps = history()
    await run(o, steps[:-1])
    # Before the merge: two people, each with their own SWEMWBS pair.
    assert await o.count(PersonRow) == 2
    uplift = await published(o, "wellbeing-improved-after-social-prescribing")
    assert uplift["overall"]["denominator"] == 1  # the minted id has one measure yet
    await run(o, [merge_event(), steps[-1]])

    for model in UNIT_MODELS:
        assert await _count(o, model, MINTED) == 0, model.__tablename__
    assert await o.count(PersonRow) == 1
    held = {m.__tablename__: await _count(o, m, KNOWN) for m in UNIT_MODELS}
    assert held == {
        "referral_fact": 2, "goal_fact": 1, "overdue_action": 1, "measure": 4,
        "measure_change": 2, "care_team_member": 1, "care_plan_fact": 1, "person": 1,
    }  # fmt: skip
    # One SWEMWBS change per scale (raw, metric) for the person, over all four measures in
    # time order: the minted id's first (day 4) to its latest (day 60), whichever id each
    # was recorded under.
    change = await _in_database(
        o.app,
        lambda s: s.execute(
            select(MeasureChangeRow.before_at, MeasureChangeRow.after_at)
            .add_columns(MeasureChangeRow.direction)
            .where(MeasureChangeRow.scale == "metric")
        ).one(),
    )
    assert tuple(change) == (AT + timedelta(days=4), AT + timedelta(days=60), "improved")

    # Counted once: one person measured before and after, both referrals, one goal.
    uplift = await published(o, "wellbeing-improved-after-social-prescribing")
    assert (uplift["overall"]["numerator"], uplift["overall"]["denominator"]) == (1, 1)
    received = await published(o, "referrals-received")
    assert received["overall"]["value"] == 2
    goals = await published(o, "goals-achieved")
    assert (goals["overall"]["numerator"], goals["overall"]["denominator"]) == (1, 1)
    # The tallies kept through the merge are the tallies counted afresh.
    assert await _in_database(o.app, _rows) == await _in_database(o.app, _rebuilt)

    # The old id reads as the person now: every measure, one pair per instrument.
    worker = o.as_(roles=["practitioner"], org="VCS01", teams=[VCSE_SERVICE], sub="lw.ana")
    r = await o.client.get(f"/api/v1/persons/{MINTED}/measures", headers=worker)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["person_id"] == str(KNOWN)
    assert len(body["measures"]) == 4
    assert {m["person_id"] for m in body["measures"]} == {str(KNOWN)}
    [pair] = body["pairs"]
    assert pair["after_at"].startswith((AT + timedelta(days=60)).date().isoformat())
    r = await o.client.get("/fhir/Observation", params={"subject": f"Patient/{MINTED}"},
                           headers=worker)  # fmt: skip
    assert r.status_code == 200, r.text
    entries = r.json()["entry"]
    assert len(entries) == 8  # four SWEMWBS, two scales each
    assert {e["resource"]["subject"]["reference"] for e in entries} == {f"Patient/{KNOWN}"}


async def test_the_breakdown_follows_the_details_the_merge_brought(outcomes: Outcomes) -> None:
    o = outcomes
    await _built(o.app)
    await run(o, history()[:-1])
    before = await published(o, "referrals-received", by="core20plus5")
    groups = {c["group"]["core20plus5"]: c["value"] for c in before["cells"]}
    # The minted id: no GP (inclusion health), in IMD quintile 2 by its last update.
    assert groups["plus"] == 1
    await run(o, [merge_event()])

    person = await _person(o)
    assert (person.imd_quintile, person.has_nhs_number, person.plus_groups) == (3, True, [])
    assert person.social_prescribed
    assert person.has_care_plan
    copies = await _in_database(
        o.app,
        lambda s: set(
            s.execute(
                select(ReferralFactRow.person_imd_quintile, ReferralFactRow.person_in_plus_group)
            ).all()
        ),
    )
    assert copies == {(3, False)}
    after = await published(o, "referrals-received", by="core20plus5")
    groups = {c["group"]["core20plus5"]: c["value"] for c in after["cells"]}
    assert groups == {"neither": 2}
    # A late person event for the old id (older than the merge) changes nothing.
    await run(o, [minted_updated(AT + timedelta(days=29), imd_quintile=1)])
    assert (await _person(o)).imd_quintile == 3


async def test_an_opt_out_of_either_id_is_the_merged_persons(
    service_databases: DatabaseFactory, auth: AuthSettings
) -> None:
    steps = history(minted_opted_out=True)
    merge = merge_event(opted_out=False)  # a merge never takes an opt-out away
    for place in (0, len(steps)):
        async with outcomes_at(await service_databases(f"outcomes_opt_{place}"), auth) as o:
            await run(o, [*steps[:place], merge, *steps[place:]])
            assert await o.count(DataOptOutRow, DataOptOutRow.person_id == MINTED) == 1
            for model in (ReferralFactRow, GoalFactRow, OverdueActionRow, MeasureChangeRow):
                assert await o.count(model, model.person_opted_out.is_(False)) == 0
                assert await o.count(model) > 0
            received = await published(o, "referrals-received")
            assert received["overall"]["value"] == 0, place
    # On the national list by the minted id (no NHS number then), after the merge.
    async with outcomes_at(await service_databases("outcomes_opt_list"), auth) as o:
        await run(o, [*history(), merge_event()])
        assert (await published(o, "referrals-received"))["overall"]["value"] == 2
        r = await o.client.put(
            "/api/v1/data-opt-outs",
            json={"nhs_numbers": [], "person_ids": [str(MINTED)]},
            headers=o.as_(roles=["admin"]),
        )
        assert r.status_code == 200, r.text
        assert (await published(o, "referrals-received"))["overall"]["value"] == 0
        assert await _in_database(o.app, _rows) == await _in_database(o.app, _rebuilt)


async def test_the_same_rows_whichever_order_the_merge_comes_in(
    service_databases: DatabaseFactory, auth: AuthSettings
) -> None:
    """The merge first (all the old id's events late), in the middle, and last; one by
    one and in polls; then everything again, and the merge republished."""
    steps, merge = history(), merge_event()
    async with outcomes_at(await service_databases("outcomes_merge_in_order"), auth) as o:
        await _built(o.app)
        await run(o, [*steps[:-1], merge, steps[-1]])
        expected = await contents(o)
        again = merge.model_copy(update={"id": uuid.uuid4()})
        await run(o, [*(s for s in steps if isinstance(s, CloudEvent)), merge, again])
        assert await contents(o) == expected
    assert expected["person_alias"][0][:2] == (MINTED, KNOWN)
    assert [row[0] for row in expected["person"]] == [KNOWN]
    assert len(expected["measure_change"]) == 2  # SWEMWBS raw and metric, once each
    for place, batch in ((0, 1), (6, 1), (len(steps), 1), (6, 50)):
        name = f"outcomes_merge_{place}_{batch}"
        async with outcomes_at(await service_databases(name), auth) as o:
            await _built(o.app)
            await run(o, [*steps[:place], merge, *steps[place:]], batch=batch)
            assert await contents(o) == expected, (place, batch)


async def test_a_merge_with_nothing_under_the_old_id_yet_holds_the_late_events(
    outcomes: Outcomes,
) -> None:
    """Only the merge is known when the old id's referral arrives: it lands on the
    surviving id, and the old id's measure request finds the person."""
    o = outcomes
    await deliver(o.app, merge_event())
    await run(o, [referral_received(MINTED, OUTREACH_REFERRAL, source="vcse")])
    assert await _count(o, ReferralFactRow, KNOWN) == 1
    assert await o.count(PersonRow) == 1
    admin = o.as_(roles=["admin"])
    r = await o.client.get(f"/api/v1/persons/{MINTED}/measures", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["person_id"] == str(KNOWN)
    # The person, signed in with a token from before the trace, still reads their own.
    me = o.as_(roles=["person"], sub=str(MINTED))
    for asked in (MINTED, KNOWN):
        r = await o.client.get(f"/api/v1/persons/{asked}/measures", headers=me)
        assert r.status_code == 200, r.text
    someone_else = o.as_(roles=["person"], sub=str(uuid.uuid4()))
    r = await o.client.get(f"/api/v1/persons/{KNOWN}/measures", headers=someone_else)
    assert r.status_code == 403, r.text
