"""End to end: a referral accepted in the referrals service makes the receiving team a member
of the person's care team, through the outbox, the broker (in memory and a real Tansu) and
the care_plans inbox, on SQLite and PostgreSQL; applied once though delivered twice."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from carethread.db import create_engine, session_factory
from carethread.messaging import replay
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from tests.care_plans.conftest import token
from tests.stack import (
    NEIGHBOURHOOD,
    Brokers,
    DatabaseFactory,
    Stack,
    app_client,
    care_plans_app,
    referral_body,
    referrals_app,
    wait_until,
)

TRIAGED = "carethread.referral.triaged.v1"


async def handled(client: httpx.AsyncClient, event_type: str, outcome: str) -> float:
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        if family.name == "carethread_events_handled":
            for s in family.samples:
                if s.name.endswith("_total") and s.labels == {
                    "event_type": event_type,
                    "outcome": outcome,
                }:
                    return s.value
    return 0.0


@pytest.mark.e2e
async def test_an_accepted_referral_puts_the_team_in_the_care_team_once(
    service_databases: DatabaseFactory, brokers: Brokers, auth: AuthSettings
) -> None:
    referrals_db, care_plans_db = (
        await service_databases("referrals"),
        await service_databases("care_plans"),
    )
    mdt_member = token(auth, sub="nurse.nia", org="RKE", neighbourhoods=[NEIGHBOURHOOD])
    async with (
        app_client(care_plans_app(care_plans_db, auth, brokers)) as care_plans,
        app_client(referrals_app(referrals_db, auth, brokers)) as referrals,
    ):
        written = await Stack(auth=auth, referrals=referrals).refer(7)
        person_id = written["person_id"]
        r = await referrals.post(
            f"/api/v1/referrals/{written['referral_id']}/triage",
            json={
                "decision": "accept",
                "destination": {"kind": "neighbourhood_mdt", "id": NEIGHBOURHOOD},
            },
            headers=bearer(auth, roles=["triager"], org="93C"),
        )
        assert r.status_code == 200, r.text

        plan: dict[str, Any] = {}

        async def team_joined() -> bool:
            nonlocal plan
            r = await care_plans.get(f"/api/v1/persons/{person_id}/care-plan", headers=mdt_member)
            plan = r.json()
            return r.status_code == 200

        await wait_until(team_joined, what="the MDT in the care team")
        # The front door's person event brought what the referral summary does not carry.
        r = await care_plans.get(f"/api/v1/persons/{person_id}", headers=mdt_member)
        assert r.status_code == 200, r.text
        assert r.json()["nhs_number"] == referral_body(7)["person"]["nhs_number"]  # type: ignore[index]
        assert r.json()["recorded_from"] == "front_door"
        assert [m["team"] for m in plan["care_team"]] == [NEIGHBOURHOOD]
        assert plan["meta"]["version"] == 2
        assert plan["meta"]["relationship"] == "care_team"

        # The front door's whole event log delivered again: nothing changes.
        engine = create_engine(referrals_db, reader=True)
        publisher = brokers.for_app().publisher()
        await publisher.start()
        try:
            prefix = brokers.kafka.topic_prefix if brokers.kafka else "mem."
            sent = await replay(session_factory(engine), publisher, topic_prefix=prefix)
            assert sent >= 2
        finally:
            await publisher.stop()
            await engine.dispose()

        async def duplicate_seen() -> bool:
            return await handled(care_plans, TRIAGED, "duplicate") >= 1

        await wait_until(duplicate_seen, what="the repeated triage event")
        again = await care_plans.get(f"/api/v1/persons/{person_id}/care-plan", headers=mdt_member)
        assert [m["team"] for m in again.json()["care_team"]] == [NEIGHBOURHOOD]
        assert again.json()["meta"]["version"] == 2
        assert await handled(care_plans, TRIAGED, "applied") == 1
