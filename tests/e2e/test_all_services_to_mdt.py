"""End to end: the MDT view follows the front door, the shared care record and outcomes
over one broker (in memory and a real Tansu), on SQLite and PostgreSQL — a change in each
appears in the caseload and the timeline, and the freshness data moves."""

from __future__ import annotations

from typing import Any

import httpx

from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from tests.stack import (
    NEIGHBOURHOOD,
    Brokers,
    DatabaseFactory,
    Stack,
    app_client,
    care_plans_app,
    mdt_app,
    outcomes_app,
    referrals_app,
    wait_until,
)

SWEMWBS = [4, 3, 4, 4, 3, 4, 3]


async def line_of(mdt: httpx.AsyncClient, auth: AuthSettings, person_id: str) -> dict[str, Any]:
    r = await mdt.get(
        f"/api/v1/neighbourhoods/{NEIGHBOURHOOD}/caseload",
        headers=bearer(auth, roles=["practitioner"], neighbourhoods=[NEIGHBOURHOOD]),
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return next((i for i in body["items"] if i["person_id"] == person_id), {}) | {
        "freshness": body["freshness"]
    }


async def test_front_door_care_record_and_outcomes_all_reach_the_mdt_view(
    service_databases: DatabaseFactory, brokers: Brokers, auth: AuthSettings
) -> None:
    urls = {n: await service_databases(n) for n in ("referrals", "care_plans", "outcomes", "mdt")}
    async with (
        app_client(mdt_app(urls["mdt"], auth, brokers)) as mdt,
        app_client(care_plans_app(urls["care_plans"], auth, brokers)),
        app_client(outcomes_app(urls["outcomes"], auth, brokers)) as outcomes,
        app_client(referrals_app(urls["referrals"], auth, brokers)) as referrals,
    ):
        written = await Stack(auth=auth, referrals=referrals).refer(5)
        person = written["person_id"]
        reader = bearer(auth, roles=["practitioner"], neighbourhoods=[NEIGHBOURHOOD])

        # The front door: the referral is on the caseload, waiting.
        r = await mdt.get(
            f"/api/v1/persons/{person}/timeline",
            params={"min_event": written["event_id"], "wait_ms": 20_000},
            headers=bearer(auth, roles=["practitioner"]),  # the referrer's organisation
        )
        assert r.json()["freshness"]["caught_up"] is True
        line = await line_of(mdt, auth, person)
        assert line["status"] == "received"
        front_door_before = line["freshness"]["sources"]["referrals"]["last_event_id"]

        # Accepted to the neighbourhood MDT: the shared care record puts the MDT in the
        # person's care team, and the view hears it from care_plans.
        r = await referrals.post(
            f"/api/v1/referrals/{written['referral_id']}/triage",
            json={
                "decision": "accept",
                "destination": {"kind": "neighbourhood_mdt", "id": NEIGHBOURHOOD},
            },
            headers=bearer(auth, roles=["triager"], org="93C"),
        )
        assert r.status_code == 200, r.text

        async def in_the_care_team() -> bool:
            line = await line_of(mdt, auth, person)
            return any(m["team"] == NEIGHBOURHOOD for m in line.get("care_team", []))

        await wait_until(in_the_care_team, what="the care team from care_plans in the caseload")
        line = await line_of(mdt, auth, person)
        assert line["status"] == "accepted"
        assert "care_plans" in line["freshness"]["sources"]
        assert line["freshness"]["sources"]["referrals"]["last_event_id"] != front_door_before

        # Outcomes: a wellbeing measure recorded by the referrer's practice, once outcomes has
        # heard of the person from the front door (its own consumer, on its own schedule).
        async def recorded() -> bool:
            nonlocal r
            r = await outcomes.post(
                "/api/v1/measures",
                json={
                    "person_id": person,
                    "instrument": "swemwbs",
                    "answers": SWEMWBS,
                    "context": {"referral_id": written["referral_id"]},
                },
                headers=bearer(auth, roles=["practitioner"]),
            )
            assert r.status_code in (201, 422), r.text
            return r.status_code == 201

        await wait_until(recorded, what="outcomes to know the person")
        measured = r.json()["event_id"]
        r = await mdt.get(
            f"/api/v1/persons/{person}/timeline",
            params={"min_event": measured, "wait_ms": 20_000},
            headers=reader,  # the neighbourhood MDT is in the care team now
        )
        assert r.status_code == 200, r.text
        timeline = r.json()
        assert timeline["freshness"]["caught_up"] is True
        sources = [e["source_service"] for e in timeline["entries"]]
        assert {"referrals", "care_plans", "outcomes"} <= set(sources)
        assert timeline["freshness"]["sources"]["outcomes"]["last_event_id"] == measured
        line = await line_of(mdt, auth, person)
        assert line["wellbeing"]["instrument"] == "swemwbs"
