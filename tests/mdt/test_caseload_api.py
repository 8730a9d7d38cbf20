"""The neighbourhood caseload over HTTP: who is on it and what their line says, filters,
sorting and pages, headline numbers, the meeting list, and the bad inputs."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from carethread.events import CloudEvent
from carethread.events.referrals import Destination
from carethread.nhs import synthetic_nhs_numbers
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from tests.mdt.app import MdtService, mdt_service
from tests.mdt.history import NEIGHBOURHOOD, OTHER_NEIGHBOURHOOD, START, Person, Referral

CASELOAD = f"/api/v1/neighbourhoods/{NEIGHBOURHOOD}/caseload"
MDT = Destination(kind="neighbourhood_mdt", id=NEIGHBOURHOOD, name="North 2 Islington MDT")
NHS = synthetic_nhs_numbers(start=300_000)


def waiting(
    n: int, *, urgency: str = "routine", hours: int = 0, **person: object
) -> tuple[Person, list[CloudEvent]]:
    """Referred ``hours`` after START and not yet triaged."""
    p = Person(n, nhs_number=next(NHS), **person)  # type: ignore[arg-type]
    r = Referral(p, urgency=urgency)
    at = START + timedelta(hours=hours)
    return p, [p.registered(r.referral_id, at), p.referred(r, at)]


def with_plan(n: int) -> tuple[Person, list[CloudEvent]]:
    """Accepted, with an active plan: a key worker, an overdue action, wellbeing worse."""
    p = Person(n, nhs_number=None, gp_practice_code=None, imd_quintile=1)
    r = Referral(p, urgency="urgent")
    member, action = uuid.uuid4(), uuid.uuid4()
    day = START + timedelta(days=1)
    return p, [
        p.registered(r.referral_id, START),
        p.referred(r, START),
        r.triaged(day, "accept", "accepted", MDT),
        *p.plan_saved(day, "RAP"),
        *p.plan_saved(day, "RAP"),
        p.member(member, day, "RAP", key_worker=True),
        p.action(action, member, day, "RAP", due=START.date()),
        p.measured(day, 24.0),
        p.measured(day + timedelta(days=14), 19.5, first=24.0),
    ]


@pytest.fixture
async def mdt(database_url: str, auth: AuthSettings):  # type: ignore[no-untyped-def]
    async with mdt_service(database_url, auth) as service:
        yield service


async def test_the_caseload_is_everyone_open_in_the_neighbourhood(mdt: MdtService) -> None:
    planned, planned_events = with_plan(1)
    first, first_events = waiting(2, hours=1, interpreter_needed=True)
    second, second_events = waiting(3, urgency="emergency", hours=2)
    _elsewhere, elsewhere_events = waiting(4, neighbourhood=OTHER_NEIGHBOURHOOD)
    closed = Person(5, nhs_number=next(NHS))
    signposted = Referral(closed)
    closed_events = [
        closed.referred(signposted, START),
        signposted.triaged(START + timedelta(hours=1), "signpost", "signposted"),
    ]
    await mdt.feed(planned_events + first_events + second_events + elsewhere_events + closed_events)

    r = await mdt.get(CASELOAD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "NORTH 2 ISLINGTON PCN"
    # Oldest wait first.
    assert [i["person_id"] for i in body["items"]] == [
        str(planned.person_id),
        str(first.person_id),
        str(second.person_id),
    ]
    line = body["items"][0]
    assert (line["status"], line["urgency"], line["no_nhs_number"]) == ("accepted", "urgent", True)
    assert line["waiting_days"] >= 1
    assert line["plan"]["status"] == "active"
    assert line["care_team"] == [
        {"organisation": "RAP", "team": "RAP-team", "role": "Community nurse", "key_worker": True}
    ]
    assert (line["open_actions"], line["overdue_actions"]) == (1, 1)
    assert line["wellbeing"]["score"] == 19.5
    assert line["wellbeing"]["change_since_first"] == -4.5
    assert line["wellbeing"]["change_direction"] == "deteriorated"
    assert line["flags"] == ["core20plus5", "inclusion_health", "no_gp"]
    assert body["items"][1]["flags"] == ["interpreter_needed"]
    assert body["headline"] == {
        "people": 3,
        "awaiting_triage": 2,
        "open_referrals": 3,
        "active_plans": 1,
        "sla_breached": 0,
        "with_overdue_actions": 1,
        "deteriorating": 1,
        "for_meeting": 1,
        "core20plus5": 1,
        "inclusion_health": 1,
        "carer": 0,
        "no_gp": 1,
        "interpreter_needed": 1,
    }
    assert body["freshness"]["sources"]["referrals"]["events_applied"] == 11
    assert body["freshness"]["sources"]["care_plans"]["events_applied"] == 4


async def test_filters_sorting_and_pages(mdt: MdtService) -> None:
    people = [
        waiting(n, urgency=u, hours=n)
        for n, u in enumerate(["routine", "urgent", "emergency", "routine", "urgent"], start=10)
    ]
    planned, planned_events = with_plan(20)
    await mdt.feed([e for _, events in people for e in events] + planned_events)
    ids = [str(p.person_id) for p, _ in people]

    async def listed(**params: object) -> list[str]:
        r = await mdt.get(CASELOAD, **params)
        assert r.status_code == 200, r.text
        return [i["person_id"] for i in r.json()["items"]]

    assert await listed(urgency="urgent") == [str(planned.person_id), ids[1], ids[4]]
    assert await listed(awaiting_triage="true") == ids
    assert await listed(active_plan="true") == [str(planned.person_id)]
    assert await listed(overdue="true") == [str(planned.person_id)]
    assert await listed(flag=["inclusion_health", "no_gp"]) == [str(planned.person_id)]
    assert await listed(flag="interpreter_needed") == []
    assert (await listed(sort="urgency"))[:3] == [ids[2], str(planned.person_id), ids[1]]
    page = await mdt.get(CASELOAD, limit=2, offset=2)
    assert page.json()["total"] == 6
    assert [i["person_id"] for i in page.json()["items"]] == ids[1:3]
    r = await mdt.get(CASELOAD, sort="shoe_size")
    assert r.status_code == 422


async def test_the_meeting_list_gives_the_reasons(mdt: MdtService) -> None:
    planned, planned_events = with_plan(30)
    late = Person(31, nhs_number=next(NHS))
    r = Referral(late)
    _, quiet = waiting(32)
    await mdt.feed(
        [*planned_events, late.referred(r, START), r.breached(START + timedelta(days=2)), *quiet]
    )
    resp = await mdt.get(f"/api/v1/neighbourhoods/{NEIGHBOURHOOD}/meeting")
    assert resp.status_code == 200, resp.text
    items = {i["person_id"]: i["meeting_reasons"] for i in resp.json()["items"]}
    assert items == {
        str(planned.person_id): [
            "1 overdue plan action",
            "Deterioration in SWEMWBS since first measure",
        ],
        str(late.person_id): ["Referral breached its triage response time"],
    }


async def test_neighbourhoods_the_caller_may_see(mdt: MdtService) -> None:
    _, events = waiting(40)
    await mdt.feed(events)
    r = await mdt.client.get("/api/v1/neighbourhoods", headers=mdt.as_member())
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [
        {"id": NEIGHBOURHOOD, "name": "NORTH 2 ISLINGTON PCN", "borough": "Islington", "people": 1}
    ]
    r = await mdt.client.get("/api/v1/neighbourhoods", headers=mdt.as_member(roles=("admin",)))
    every = {n["id"] for n in r.json()["items"]}
    assert {NEIGHBOURHOOD, OTHER_NEIGHBOURHOOD} <= every
    assert len(every) > 20  # every NCL PCN


async def test_bad_input_is_refused_and_a_wait_is_bounded(mdt: MdtService) -> None:
    r = await mdt.get("/api/v1/neighbourhoods/X99999/caseload")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await mdt.get(f"/api/v1/neighbourhoods/{OTHER_NEIGHBOURHOOD}/meeting")
    assert r.status_code == 403
    r = await mdt.client.get(
        f"/api/v1/neighbourhoods/{OTHER_NEIGHBOURHOOD}/caseload",
        headers=bearer(mdt.auth, roles=["analyst"]),
    )
    assert r.status_code == 200
    r = await mdt.client.get(CASELOAD)
    assert r.status_code == 401

    started = time.monotonic()
    r = await mdt.get(CASELOAD, min_event=str(uuid.uuid4()), wait_ms=30_000)
    assert r.status_code == 200
    assert r.json()["freshness"]["caught_up"] is False
    assert time.monotonic() - started < 5  # the service's own bound (2 s here) applies
    r = await mdt.get(CASELOAD, wait_ms=60_000)
    assert r.status_code == 422
