"""End to end: a write in the front door becomes a projection in the MDT view and in outcomes,
through the outbox, the broker and the consumers' inboxes — on the in-memory broker and on a
real Tansu, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from carethread.db import create_engine, session_factory
from carethread.db.tables import InboxRow, OutboxRow
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from outcomes.store.tables import ReferralVolumeRow
from tests.stack import (
    NEIGHBOURHOOD,
    Brokers,
    DatabaseFactory,
    Stack,
    app_client,
    caseload_ids,
    mdt_app,
    outcomes_app,
    referral_body,
    referrals_app,
    wait_until,
)


async def referral_volume(url: str) -> int:
    engine = create_engine(url, reader=True)  # never holds up the service writing it
    async with session_factory(engine)() as s:
        total = await s.scalar(select(func.coalesce(func.sum(ReferralVolumeRow.referrals), 0)))
    await engine.dispose()
    return int(total or 0)


async def front_door_events(url: str) -> set[str]:
    """The ids of the person and referral events in the front door's outbox."""
    engine = create_engine(url, reader=True)  # never holds up the service writing it
    async with session_factory(engine)() as s:
        ids = await s.scalars(
            select(OutboxRow.event_id).where(OutboxRow.topic.like("%carethread.referrals.v1"))
        )
        found = {str(i) for i in ids}
    await engine.dispose()
    return found


async def inbox_size(url: str) -> int:
    """Referrals applied (the view also applies the front door's person events)."""
    engine = create_engine(url, reader=True)  # never holds up the service writing it
    async with session_factory(engine)() as s:
        count = await s.scalar(
            select(func.count())
            .select_from(InboxRow)
            .where(InboxRow.event_type == "carethread.referral.received.v1")
        )
    await engine.dispose()
    return int(count or 0)


async def test_a_referral_becomes_the_mdt_view_and_an_outcome_input(
    service_databases: DatabaseFactory, brokers: Brokers, auth: AuthSettings
) -> None:
    referrals_db, mdt_db, outcomes_db = [
        await service_databases(n) for n in ("referrals", "mdt", "outcomes")
    ]
    async with (
        app_client(mdt_app(mdt_db, auth, brokers)) as mdt,
        app_client(outcomes_app(outcomes_db, auth, brokers)),
        app_client(referrals_app(referrals_db, auth, brokers)) as referrals,
    ):
        r = await referrals.post(
            "/api/v1/referrals", json=referral_body(1), headers=bearer(auth, roles=["referrer"])
        )
        assert r.status_code == 201, r.text
        written = r.json()

        # The caller can wait for its own write to reach the view (read-your-writes).
        r = await mdt.get(
            f"/api/v1/persons/{written['person_id']}/timeline",
            params={"min_event": written["event_id"], "wait_ms": 20_000},
            headers=bearer(auth, roles=["practitioner"], neighbourhoods=[NEIGHBOURHOOD]),
        )
        assert r.status_code == 200, r.text
        timeline = r.json()
        assert timeline["freshness"]["caught_up"] is True
        assert [e["event_id"] for e in timeline["entries"]] == [written["event_id"]]
        assert timeline["entries"][0]["source_service"] == "referrals"
        # The front door wrote the intake and the person's registration together; freshness
        # names the newer of those applied so far.
        assert timeline["freshness"]["sources"]["referrals"]["last_event_id"] in (
            await front_door_events(referrals_db)
        )
        assert await caseload_ids(mdt, auth) == [written["referral_id"]]

        async def outcomes_counted() -> bool:
            return await referral_volume(outcomes_db) == 1

        await wait_until(outcomes_counted, what="the outcomes projection")


async def test_many_writes_arrive_once_each_in_every_consumer(
    service_databases: DatabaseFactory, brokers: Brokers, auth: AuthSettings
) -> None:
    referrals_db, mdt_db, outcomes_db = [
        await service_databases(n) for n in ("referrals", "mdt", "outcomes")
    ]
    async with (
        app_client(mdt_app(mdt_db, auth, brokers)) as mdt,
        app_client(outcomes_app(outcomes_db, auth, brokers)),
        app_client(referrals_app(referrals_db, auth, brokers)) as referrals,
    ):
        stack = Stack(auth=auth, referrals=referrals)
        written = [await stack.refer(n) for n in range(40)]

        async def all_projected() -> bool:
            return len(await caseload_ids(mdt, auth)) == len(written)

        await wait_until(all_projected, what="40 referrals in the caseload")
        assert sorted(await caseload_ids(mdt, auth)) == sorted(w["referral_id"] for w in written)

        async def all_counted() -> bool:
            return await referral_volume(outcomes_db) == len(written)

        await wait_until(all_counted, what="40 referrals counted by outcomes")
        assert await inbox_size(mdt_db) == len(written)


async def test_a_triage_decision_reaches_the_mdt_caseload_and_timeline(
    service_databases: DatabaseFactory, brokers: Brokers, auth: AuthSettings
) -> None:
    referrals_db, mdt_db = await service_databases("referrals"), await service_databases("mdt")
    async with (
        app_client(mdt_app(mdt_db, auth, brokers)) as mdt,
        app_client(referrals_app(referrals_db, auth, brokers)) as referrals,
    ):
        written = await Stack(auth=auth, referrals=referrals).refer(3)
        r = await referrals.post(
            f"/api/v1/referrals/{written['referral_id']}/triage",
            json={
                "decision": "accept",
                "destination": {"kind": "neighbourhood_mdt", "id": NEIGHBOURHOOD},
            },
            headers=bearer(auth, roles=["triager"], org="93C"),
        )
        assert r.status_code == 200, r.text
        r = await mdt.get(
            f"/api/v1/persons/{written['person_id']}/timeline",
            params={"min_event": r.json()["event_id"], "wait_ms": 20_000},
            headers=bearer(auth, roles=["admin"]),
        )
        assert r.json()["freshness"]["caught_up"] is True
        assert [e["event_type"] for e in r.json()["entries"]] == [
            "carethread.referral.received.v1",
            "carethread.referral.triaged.v1",
        ]
        r = await mdt.get(
            f"/api/v1/neighbourhoods/{NEIGHBOURHOOD}/caseload",
            headers=bearer(auth, roles=["admin"]),
        )
        assert [(i["referral_id"], i["status"]) for i in r.json()["items"]] == [
            (written["referral_id"], "accepted")
        ]


async def test_a_person_merge_at_the_front_door_leaves_one_line_in_the_caseload(
    service_databases: DatabaseFactory, brokers: Brokers, auth: AuthSettings
) -> None:
    """One resident referred twice, once by NHS number and once without (two people in the
    view), then traced: the view shows one person with both referrals."""
    referrals_db, mdt_db = await service_databases("referrals"), await service_databases("mdt")
    admin = bearer(auth, roles=["admin"])
    async with (
        app_client(mdt_app(mdt_db, auth, brokers)) as mdt,
        app_client(referrals_app(referrals_db, auth, brokers)) as referrals,
    ):
        known_body = referral_body(7)
        shadow_body = referral_body(8)
        shadow_body["person"] = {**known_body["person"], "nhs_number": None}  # type: ignore[dict-item]
        known = await _post(referrals, known_body, auth)
        shadow = await _post(referrals, shadow_body, auth)
        assert shadow["person_id"] != known["person_id"]
        await mdt.get(
            f"/api/v1/persons/{shadow['person_id']}/timeline",
            params={"min_event": shadow["event_id"], "wait_ms": 20_000},
            headers=admin,
        )
        lines = await _caseload(mdt, admin)
        assert sorted(lines) == sorted([known["person_id"], shadow["person_id"]])

        nhs = known_body["person"]["nhs_number"]  # type: ignore[index]
        r = await referrals.post(
            f"/api/v1/persons/{shadow['person_id']}/nhs-number-trace",
            json={"nhs_number": nhs},
            headers=bearer(auth, roles=["triager"]),
        )
        assert r.status_code == 201, r.text

        # Read by the old id, waiting for the merge: the person as they are now.
        r = await mdt.get(
            f"/api/v1/persons/{shadow['person_id']}/timeline",
            params={"min_event": r.json()["event_id"], "wait_ms": 20_000},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        assert r.json()["freshness"]["caught_up"] is True
        assert r.json()["person_id"] == known["person_id"]
        lines = await _caseload(mdt, admin)
        assert list(lines) == [known["person_id"]]
        assert sorted(lines[known["person_id"]]) == sorted(
            [known["referral_id"], shadow["referral_id"]]
        )


async def _post(
    referrals: httpx.AsyncClient, body: dict[str, object], auth: AuthSettings
) -> dict[str, str]:
    r = await referrals.post(
        "/api/v1/referrals", json=body, headers=bearer(auth, roles=["referrer"])
    )
    assert r.status_code == 201, r.text
    written: dict[str, str] = r.json()
    return written


async def _caseload(mdt: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, list[str]]:
    """Each person on the caseload with their open referrals."""
    r = await mdt.get(f"/api/v1/neighbourhoods/{NEIGHBOURHOOD}/caseload", headers=headers)
    assert r.status_code == 200, r.text
    return {item["person_id"]: item["open_referral_ids"] for item in r.json()["items"]}
