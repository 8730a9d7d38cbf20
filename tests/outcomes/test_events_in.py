"""Indicator inputs kept from the other services' events: idempotent (a repeated delivery
changes nothing), ordered by each event's own data (a stale change is ignored), and
deterministic (a replay in another interleaving gives the same published numbers)."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI

from carethread.events import CloudEvent
from carethread.events.referrals import Destination
from carethread.messaging import InMemoryBroker
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import bearer, running
from outcomes.app import create_app
from outcomes.domain.indicators import INDICATORS
from outcomes.settings import OutcomesSettings
from outcomes.store.tables import PersonRow, ReferralFactRow
from tests.outcomes.conftest import Clock, Outcomes
from tests.outcomes.events_in import (
    AT,
    action_overdue,
    care_plan_created,
    deliver,
    goal,
    person_registered,
    person_updated,
    referral_moved,
    referral_received,
    referral_triaged,
    sla_breached,
)
from tests.stack import DatabaseFactory

NUMBERS = synthetic_nhs_numbers(start=63_000)
MDT = Destination(kind="neighbourhood_mdt", id="U02795", name="North 2 Islington PCN MDT")


def analyst(outcomes: Outcomes) -> dict[str, str]:
    return outcomes.as_(roles=["analyst"], org="93C")


async def indicator(outcomes: Outcomes, name: str, **params: str) -> dict[str, Any]:
    r = await outcomes.client.get(
        f"/api/v1/indicators/{name}", params=params, headers=analyst(outcomes)
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def person_journey(n: int, rng: random.Random) -> list[CloudEvent]:
    """One synthetic person's events across referrals and care plans, in their order."""
    nhs = next(NUMBERS)
    pid, rid = person_id_for_nhs_number(nhs), uuid.uuid4()
    quintile = 1 + n % 5
    received = AT + timedelta(hours=n)
    events = [
        person_registered(
            nhs,
            imd_quintile=quintile,
            sex=rng.choice(["female", "male"]),
            ethnicity_code=rng.choice("ACHMNZ"),
            birth_date=date(1940, 1, 1) + timedelta(days=rng.randrange(25_000)),
            gp_practice_code=None if n % 7 == 0 else "F83004",
        ),
        referral_received(pid, rid, at=received, reasons=("carers",) if n % 6 == 0 else ("food",)),
    ]
    path = n % 4
    if path == 0:  # social prescription, taken up
        start = received + timedelta(days=3)
        events += [
            referral_triaged(pid, rid, at=received + timedelta(days=1), breached=n % 3 == 0),
            referral_moved(pid, rid, status="in_progress", at=start, sequence=3),
        ]
    elif path == 1:  # social prescription not taken up
        events.append(referral_triaged(pid, rid, at=received + timedelta(days=2)))
    elif path == 2:  # accepted to the MDT; a plan with goals and an overdue action
        gid = uuid.uuid4()
        events += [
            referral_triaged(pid, rid, decision="accept", destination=MDT, at=received),
            care_plan_created(pid, at=received + timedelta(days=1)),
            goal(pid, gid, achieved=False, version=2),
            goal(pid, uuid.uuid4(), achieved=False, version=3),
            action_overdue(pid, uuid.uuid4(), date(2026, 9, 30)),
        ]
        if n % 3:
            events.append(goal(pid, gid, achieved=True, version=4))
    else:  # still waiting: the SLA watch announces a breach
        events.append(sla_breached(pid, rid, at=received + timedelta(days=7)))
    return events


def journeys(count: int) -> list[list[CloudEvent]]:
    rng = random.Random(6)
    return [person_journey(n, rng) for n in range(count)]


def interleaved(people: list[list[CloudEvent]], seed: int) -> list[CloudEvent]:
    """Every person's events in their own order, people interleaved at random, with some
    events delivered twice (as after a consumer restart)."""
    rng = random.Random(seed)
    queues = [list(p) for p in people]
    out: list[CloudEvent] = []
    while any(queues):
        q = rng.choice([q for q in queues if q])
        event = q.pop(0)
        out.append(event)
        if rng.random() < 0.15:
            out.append(event)
    return out


async def everything(outcomes: Outcomes) -> dict[str, Any]:
    """Every indicator by every dimension, as published (without the computation time)."""
    out = {}
    for ind in INDICATORS:
        for by in ("imd_quintile", "sex", "ethnicity", "age_band", "core20plus5", "borough"):
            body = await indicator(outcomes, ind.id, by=by, period="2026")
            body.pop("computed_at")
            out[f"{ind.id}?by={by}"] = body
    return out


@asynccontextmanager
async def outcomes_at(url: str, auth: AuthSettings) -> AsyncIterator[Outcomes]:
    settings = OutcomesSettings(
        database_url=url, auth=auth, kafka=KafkaSettings(topic_prefix="t."), log_json=False
    )
    app: FastAPI = create_app(settings, broker=InMemoryBroker())
    async with running(app) as client:
        yield Outcomes(app, client, settings, auth, Clock())


async def test_a_replay_in_another_order_gives_the_same_published_numbers(
    service_databases: DatabaseFactory, auth: AuthSettings
) -> None:
    people = journeys(48)
    first_url, second_url = await service_databases("outcomes_a"), await service_databases("b")
    async with outcomes_at(first_url, auth) as first:
        await deliver(first.app, *[e for p in people for e in p])
        published = await everything(first)
        # Delivered again (the broker lost its offsets): nothing changes.
        await deliver(first.app, *[e for p in people for e in p])
        assert await everything(first) == published
    async with outcomes_at(second_url, auth) as second:
        await deliver(second.app, *interleaved(people, seed=2))
        assert await everything(second) == published
    assert published["referrals-received?by=imd_quintile"]["overall"]["value"] == 50  # 48
    assert published["goals-achieved?by=sex"]["overall"]["denominator"] == 25  # 24 goals


async def test_referral_facts_follow_each_referral_and_ignore_stale_changes(
    outcomes: Outcomes,
) -> None:
    nhs = next(NUMBERS)
    pid, rid = person_id_for_nhs_number(nhs), uuid.uuid4()
    triaged = referral_triaged(pid, rid, at=AT + timedelta(days=1), breached=True)
    started = referral_moved(pid, rid, status="in_progress", at=AT + timedelta(days=2), sequence=3)
    await deliver(
        outcomes.app, person_registered(nhs), referral_received(pid, rid), triaged, started
    )
    # The triage event delivered late again (a newer state is already known): ignored.
    await deliver(outcomes.app, referral_triaged(pid, rid, at=AT + timedelta(days=5)))
    engine_rows = await outcomes.count(
        ReferralFactRow,
        ReferralFactRow.referral_id == rid,
        ReferralFactRow.status == "in_progress",
        ReferralFactRow.social_prescription.is_(True),
        ReferralFactRow.triaged_within_sla.is_(False),
        ReferralFactRow.sla_breached.is_(True),
        ReferralFactRow.started_at.is_not(None),
    )
    assert engine_rows == 1


async def test_person_details_older_than_what_is_known_are_ignored(outcomes: Outcomes) -> None:
    nhs = next(NUMBERS)
    pid = person_id_for_nhs_number(nhs)
    await deliver(
        outcomes.app,
        person_updated(nhs, at=AT + timedelta(days=2), imd_quintile=5, borough="Barnet"),
        person_registered(nhs, at=AT, imd_quintile=1),  # older, delivered late
    )
    assert (
        await outcomes.count(PersonRow, PersonRow.person_id == pid, PersonRow.imd_quintile == 5)
        == 1
    )


async def test_plus_groups_come_from_registration_reasons_and_declared_groups(
    outcomes: Outcomes,
) -> None:
    unregistered, carer, declared = next(NUMBERS), next(NUMBERS), next(NUMBERS)
    carer_id = person_id_for_nhs_number(carer)
    await deliver(
        outcomes.app,
        person_registered(unregistered, gp_practice_code=None, imd_quintile=3),
        # The carer's referral arrives before their person event: the group still sticks.
        referral_received(carer_id, uuid.uuid4(), reasons=("carers",), imd_quintile=4),
        person_registered(carer, imd_quintile=4),
        person_registered(declared, imd_quintile=5, plus_groups=["learning_disability"]),
    )
    groups = {}
    for nhs in (unregistered, carer, declared):
        pid = person_id_for_nhs_number(nhs)
        row_count = await outcomes.count(
            PersonRow, PersonRow.person_id == pid, PersonRow.in_plus_group.is_(True)
        )
        groups[nhs] = row_count
    assert set(groups.values()) == {1}


async def test_goals_overdue_actions_and_conversion_to_care_plans(outcomes: Outcomes) -> None:
    a, b = next(NUMBERS), next(NUMBERS)
    pa, pb = person_id_for_nhs_number(a), person_id_for_nhs_number(b)
    events = []
    for nhs, pid, with_plan in ((a, pa, True), (b, pb, False)):
        rid = uuid.uuid4()
        events += [
            person_registered(nhs),
            referral_received(pid, rid),
            referral_triaged(pid, rid, decision="accept", destination=MDT),
        ]
        if with_plan:
            events.append(care_plan_created(pid))
    action = uuid.uuid4()
    gid = uuid.uuid4()
    events += [
        goal(pa, gid, achieved=False, version=2),
        goal(pa, gid, achieved=True, version=3),
        goal(pa, gid, achieved=False, version=2),  # stale: still achieved
        action_overdue(pa, action, date(2026, 9, 1)),
        action_overdue(pa, action, date(2026, 9, 1)),  # announced twice: counted once
        action_overdue(pa, action, date(2026, 9, 15)),  # a new due date passed too
    ]
    await deliver(outcomes.app, *events)
    no_rounding = {"round_to": 1, "suppress_up_to": 0}
    outcomes.settings.round_to, outcomes.settings.suppress_up_to = (
        no_rounding["round_to"],
        no_rounding["suppress_up_to"],
    )
    converted = await indicator(outcomes, "accepted-with-care-plan")
    assert (converted["overall"]["numerator"], converted["overall"]["denominator"]) == (1, 2)
    goals = await indicator(outcomes, "goals-achieved")
    assert (goals["overall"]["numerator"], goals["overall"]["denominator"]) == (1, 1)
    overdue = await indicator(outcomes, "overdue-actions")
    assert overdue["overall"]["value"] == 2
    # With the default policy these small numbers are never shown.
    outcomes.settings.round_to, outcomes.settings.suppress_up_to = 5, 7
    overdue = await indicator(outcomes, "overdue-actions")
    assert overdue["overall"]["suppressed"] is True
    assert overdue["overall"]["value"] is None


async def test_wellbeing_after_social_prescribing_moves_by_imd_quintile(
    outcomes: Outcomes,
) -> None:
    """Before and after SWEMWBS for people social-prescribed in quintiles 1 and 5: the
    indicator counts who improved by the meaningful change, per quintile."""
    worker = bearer(
        outcomes.auth, roles=["practitioner"], org="VCS01", sub="lw",
        teams=["5c0ffee0-0000-4000-8000-00000000a001"],
    )  # fmt: skip
    plan = {1: (10, 4), 5: (10, 8)}  # quintile: (people, improved)
    for quintile, (people, improved) in plan.items():
        for i in range(people):
            nhs = next(NUMBERS)
            pid, rid = person_id_for_nhs_number(nhs), uuid.uuid4()
            await deliver(
                outcomes.app,
                person_registered(nhs, imd_quintile=quintile),
                referral_received(pid, rid, imd_quintile=quintile),
                referral_triaged(pid, rid),
            )
            for answers in (
                [2, 3, 3, 3, 3, 3, 3],
                [4, 3, 4, 4, 3, 4, 3] if i < improved else [3] * 7,
            ):
                r = await outcomes.client.post(
                    "/api/v1/measures",
                    json={"person_id": str(pid), "instrument": "swemwbs", "answers": answers,
                          "context": {"social_prescription": str(rid)}},
                    headers=worker,
                )  # fmt: skip
                assert r.status_code == 201, r.text
                outcomes.clock.now += timedelta(days=1)
    outcomes.settings.round_to, outcomes.settings.suppress_up_to = 1, 0
    body = await indicator(
        outcomes, "wellbeing-improved-after-social-prescribing", by="imd_quintile"
    )
    cells = {c["group"]["imd_quintile"]: (c["numerator"], c["denominator"]) for c in body["cells"]}
    assert cells == {"1": (4, 10), "5": (8, 10)}
    assert body["inequality"]["absolute_gap"] == -0.4
    assert body["inequality"]["relative_gap"] == 0.5
