"""Joint triage through the API: the lifecycle, its illegal moves, response times on a clock
the test controls, the queue, idempotent intake and optimistic concurrency."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from carethread.db import create_engine, session_factory
from carethread.db.tables import OutboxRow
from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer, running
from referrals.api.referrals import clock
from referrals.app import create_app
from referrals.settings import ReferralsSettings
from referrals.store.tables import ReferralRow
from tests.referrals.directory import SOCIAL_PRESCRIBING, list_service
from tests.referrals.test_intake_api import PERSON, referral

MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MDT = {"kind": "neighbourhood_mdt", "id": "U02795", "name": "North 2 Islington"}
SERVICE = {"kind": "service", "id": str(SOCIAL_PRESCRIBING), "name": "Islington social prescribing"}


@dataclass
class Clock:
    now: datetime = MONDAY_9AM

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class FrontDoor:
    client: httpx.AsyncClient
    auth: AuthSettings
    clock: Clock

    def as_(self, *roles: str, org: str = "F83004", sub: str = "tester") -> dict[str, str]:
        return bearer(self.auth, roles=list(roles), org=org, sub=sub)

    async def refer(self, **overrides: object) -> dict[str, Any]:
        r = await self.client.post(
            "/api/v1/referrals", json=referral(**overrides), headers=self.as_("referrer")
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def act(
        self, referral_id: str, path: str, body: object = None, *, sub: str = "triager.a"
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/referrals/{referral_id}/{path}",
            json=body,
            headers=self.as_("triager", sub=sub, org="93C"),
        )

    async def queue(self, **params: str | list[str]) -> dict[str, Any]:
        r = await self.client.get(
            "/api/v1/referrals", params=params, headers=self.as_("triager", org="93C")
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


@pytest.fixture
async def door(
    referrals_settings: ReferralsSettings, memory_broker: InMemoryBroker, auth: AuthSettings
) -> AsyncIterator[FrontDoor]:
    app = create_app(referrals_settings, broker=memory_broker)
    fake = Clock()
    app.dependency_overrides[clock] = lambda: fake.now
    async with running(app) as client:
        await list_service(memory_broker, referrals_settings)
        yield FrontDoor(client, auth, fake)


async def event_types(settings: ReferralsSettings) -> list[str]:
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as s:
        rows = (await s.scalars(select(OutboxRow).order_by(OutboxRow.position))).all()
    await engine.dispose()
    return [r.event_type for r in rows if "referral" in r.event_type]


async def test_the_whole_lifecycle_with_joint_sign_off(
    door: FrontDoor, referrals_settings: ReferralsSettings
) -> None:
    ref = (await door.refer())["referral_id"]
    r = await door.act(ref, "claim")
    assert r.status_code == 200, r.text
    assert r.json()["referral"]["claimed_by"] == "triager.a"
    door.clock.advance(hours=1)
    r = await door.act(
        ref,
        "triage",
        {
            "decision": "accept",
            "destination": MDT,
            "health_signoff": "Dr H. Example (GP)",
            "social_care_signoff": "S. Worker (ASC)",
        },
    )
    assert r.status_code == 200, r.text
    accepted = r.json()
    assert accepted["referral"]["status"] == "accepted"
    assert accepted["referral"]["destination"]["id"] == "U02795"
    assert accepted["referral"]["triaged_at"].startswith("2026-11-23T10:00")
    assert accepted["referral"]["allowed_actions"] == ["start", "withdraw"]
    assert (await door.act(ref, "start")).json()["referral"]["status"] == "in_progress"
    assert (await door.act(ref, "complete")).json()["referral"]["status"] == "completed"

    # The message back: the referrer sees who did what and when.
    r = await door.client.get(f"/api/v1/referrals/{ref}/history", headers=door.as_("referrer"))
    assert r.status_code == 200, r.text
    history = r.json()
    assert [(h["action"], h["to_status"]) for h in history] == [
        ("receive", "received"),
        ("claim", "in_triage"),
        ("accept", "accepted"),
        ("start", "in_progress"),
        ("complete", "completed"),
    ]
    assert history[2]["health_signoff"] == "Dr H. Example (GP)"
    assert history[2]["social_care_signoff"] == "S. Worker (ASC)"
    assert history[2]["actor"] == "triager.a"
    assert [h["version"] for h in history] == [1, 2, 3, 4, 5]
    assert await event_types(referrals_settings) == [
        "carethread.referral.received.v1",
        "carethread.referral.status-changed.v1",
        "carethread.referral.triaged.v1",
        "carethread.referral.status-changed.v1",
        "carethread.referral.status-changed.v1",
    ]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("complete", None),
        ("start", None),
        ("unclaim", None),
        ("info_provided", {"reason": "answer"}),
    ],
)
async def test_an_illegal_move_is_409_naming_the_current_state(
    door: FrontDoor, path: str, body: object, referrals_settings: ReferralsSettings
) -> None:
    ref = (await door.refer())["referral_id"]
    r = await door.act(ref, path, body)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["current_status"] == "received"
    assert "received" in r.json()["detail"]
    assert len(await event_types(referrals_settings)) == 1  # nothing written but the intake


async def test_a_decided_referral_cannot_be_decided_again(door: FrontDoor) -> None:
    ref = (await door.refer())["referral_id"]
    r = await door.act(ref, "triage", {"decision": "decline", "reason": "Not eligible"})
    assert r.status_code == 200, r.text
    r = await door.act(ref, "triage", {"decision": "accept", "destination": MDT})
    assert r.status_code == 409
    assert r.json()["current_status"] == "declined"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "accept"}, "destination"),
        ({"decision": "route", "destination": MDT}, "destination.kind"),
        ({"decision": "decline"}, "reason"),
        ({"decision": "request_info", "reason": "  "}, "reason"),
        ({"decision": "signpost", "destination": SERVICE, "reason": "x"}, "destination"),
        ({"decision": "maybe"}, "decision"),
        ({"decision": "accept", "destination": {**MDT, "kind": "moon"}}, "destination.kind"),
    ],
)
async def test_an_incomplete_decision_is_422_naming_the_field(
    door: FrontDoor, body: dict[str, object], field: str
) -> None:
    ref = (await door.refer())["referral_id"]
    r = await door.act(ref, "triage", body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    after = await door.client.get(f"/api/v1/referrals/{ref}", headers=door.as_("triager"))
    assert after.json()["status"] == "received"


async def test_response_times_breach_on_the_clock(door: FrontDoor) -> None:
    urgent = (await door.refer(urgency="urgent"))["referral_id"]
    routine = (await door.refer(urgency="routine"))["referral_id"]
    emergency = (await door.refer(urgency="emergency"))["referral_id"]

    door.clock.advance(hours=1, minutes=59)
    assert (await door.queue(breached="true"))["total"] == 0
    door.clock.advance(minutes=2)  # the emergency is past its 2 hours
    breached = await door.queue(breached="true")
    assert [i["id"] for i in breached["items"]] == [emergency]

    door.clock.advance(hours=22)  # 24h01m: the urgent one too
    breached = await door.queue(breached="true")
    assert {i["id"] for i in breached["items"]} == {emergency, urgent}
    not_breached = await door.queue(breached="false")
    assert [i["id"] for i in not_breached["items"]] == [routine]

    # Triaged late stays breached; the event says so.
    r = await door.act(urgent, "triage", {"decision": "route", "destination": SERVICE})
    assert r.json()["referral"]["breached_sla"] is True
    # The routine one is due five working days later: Monday 09:00 → next Monday 09:00.
    r = await door.client.get(f"/api/v1/referrals/{routine}", headers=door.as_("triager"))
    assert r.json()["triage_due_at"].startswith("2026-11-30T09:00")
    assert r.json()["seconds_in_status"] == (24 * 3600 + 60)


async def test_the_queue_filters_and_orders_by_due_time(door: FrontDoor) -> None:
    routine = (await door.refer(urgency="routine"))["referral_id"]
    urgent = (await door.refer(urgency="urgent"))["referral_id"]
    door.clock.advance(minutes=1)
    claimed = (await door.refer(urgency="urgent"))["referral_id"]
    await door.act(claimed, "claim")

    everything = await door.queue()
    assert [i["id"] for i in everything["items"]] == [urgent, claimed, routine]
    waiting = await door.queue(status="received", urgency="urgent")
    assert [i["id"] for i in waiting["items"]] == [urgent]
    assert (await door.queue(status=["received", "in_triage"]))["total"] == 3
    assert (await door.queue(borough="Islington", neighbourhood="U02795"))["total"] == 3
    assert (await door.queue(borough="Camden"))["total"] == 0
    r = await door.client.get(
        "/api/v1/referrals", params={"status": "lost"}, headers=door.as_("triager")
    )
    assert r.status_code == 422


async def test_referrers_see_only_what_their_organisation_sent(door: FrontDoor) -> None:
    ours = (await door.refer())["referral_id"]
    r = await door.client.get("/api/v1/referrals", headers=door.as_("referrer", org="F83004"))
    assert [i["id"] for i in r.json()["items"]] == [ours]
    r = await door.client.get("/api/v1/referrals", headers=door.as_("referrer", org="F83019"))
    assert r.json()["total"] == 0


async def test_only_the_front_door_triages(door: FrontDoor) -> None:
    ref = (await door.refer())["referral_id"]
    r = await door.client.post(
        f"/api/v1/referrals/{ref}/triage",
        json={"decision": "decline", "reason": "no"},
        headers=door.as_("referrer"),
    )
    assert r.status_code == 403
    # The referrer may withdraw what they sent, with a reason.
    r = await door.client.post(
        f"/api/v1/referrals/{ref}/withdraw",
        json={"reason": "Resolved by the practice"},
        headers=door.as_("referrer"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["referral"]["status"] == "withdrawn"


async def test_the_same_idempotency_key_returns_the_original(
    door: FrontDoor, referrals_settings: ReferralsSettings
) -> None:
    headers = {**door.as_("referrer"), "Idempotency-Key": "epr-msg-0001"}
    first = await door.client.post("/api/v1/referrals", json=referral(), headers=headers)
    again = await door.client.post("/api/v1/referrals", json=referral(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["referral_id"] == first.json()["referral_id"]
    assert again.json()["event_id"] == first.json()["event_id"]
    engine = create_engine(referrals_settings.database_url)
    async with session_factory(engine)() as s:
        assert await s.scalar(select(func.count()).select_from(ReferralRow)) == 1
    await engine.dispose()
    assert len(await event_types(referrals_settings)) == 1
    # Another organisation cannot fish out a referral with someone else's key.
    other = {**door.as_("referrer", org="F83019", sub="other"), "Idempotency-Key": "epr-msg-0001"}
    r = await door.client.post("/api/v1/referrals", json=referral(), headers=other)
    assert r.status_code == 409


async def test_a_stale_if_match_is_412(door: FrontDoor) -> None:
    ref = (await door.refer())["referral_id"]
    r = await door.client.get(f"/api/v1/referrals/{ref}", headers=door.as_("triager"))
    assert r.headers["etag"] == '"1"'
    await door.act(ref, "claim", sub="triager.b")  # someone else moved it on
    r = await door.client.post(
        f"/api/v1/referrals/{ref}/triage",
        json={"decision": "decline", "reason": "no"},
        headers={**door.as_("triager", org="93C"), "If-Match": '"1"'},
    )
    assert r.status_code == 412, r.text
    assert r.json()["current_version"] == 2


async def test_a_person_without_an_nhs_number_is_triaged_like_anyone(door: FrontDoor) -> None:
    body = referral()
    body["person"] = {"given_name": "Sam", "family_name": "Nofixed", "postcode": "N1 9GU"}
    r = await door.client.post("/api/v1/referrals", json=body, headers=door.as_("referrer"))
    assert r.status_code == 201, r.text
    ref = r.json()["referral_id"]
    r = await door.act(ref, "triage", {"decision": "route", "destination": SERVICE})
    assert r.status_code == 200, r.text
    assert r.json()["referral"]["status"] == "routed"
    assert json.dumps(r.json()).count(ref) >= 2


async def test_a_queue_line_shows_the_referral_as_reading_it_does(door: FrontDoor) -> None:
    """The queue's lines are built apart from the single read (columns straight to JSON):
    each must say exactly what reading that referral says, destination and clocks included."""
    received = await door.refer(urgency="urgent")
    waiting = received["referral_id"]
    door.clock.advance(minutes=5)
    no_nhs_number = {**PERSON, "nhs_number": None}
    accepted = (await door.refer(person=no_nhs_number))["referral_id"]
    await door.act(accepted, "claim")
    door.clock.advance(minutes=30)
    decision = {"decision": "accept", "destination": MDT}
    assert (await door.act(accepted, "triage", decision)).status_code == 200
    door.clock.advance(hours=30)  # the urgent one is now past its due time

    lines = {line["id"]: line for line in (await door.queue())["items"]}
    assert set(lines) == {waiting, accepted}
    for referral_id, line in lines.items():
        r = await door.client.get(
            f"/api/v1/referrals/{referral_id}", headers=door.as_("triager", org="93C")
        )
        read = r.json()
        del read["linked"], read["involvement"]
        assert line == read
    assert lines[waiting]["breached_sla"] is True
    assert lines[accepted]["destination"] == MDT
    assert lines[accepted]["person"]["nhs_number"] is None
    # The receipt's referral is the line as it was then: only the clocks have moved on.
    moved = {"breached_sla", "seconds_in_status"}
    then = {k: v for k, v in received["referral"].items() if k not in moved}
    assert then == {k: v for k, v in lines[waiting].items() if k not in moved}
