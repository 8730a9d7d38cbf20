"""Overdue actions are announced once when their due date passes (on the test's clock, on
demand, and by the service's own watch); the demo data loads plans worth showing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from care_plans.api.dependencies import clock
from care_plans.app import create_app
from care_plans.settings import CarePlansSettings
from carethread.events.care_plans import PlanActionOverdueV1
from carethread.messaging import InMemoryBroker
from carethread.testing.apps import running
from tests.care_plans.conftest import CarePlans, Clock, outbox, token
from tests.care_plans.test_plan_api import full_plan

OVERDUE = PlanActionOverdueV1.event_type


async def announce(care_plans: CarePlans) -> int:
    admin = token(care_plans.auth, sub="ops", org="93C", roles=["admin"])
    r = await care_plans.client.post("/api/v1/overdue-actions/announce", headers=admin)
    assert r.status_code == 200, r.text
    count: int = r.json()["announced"]
    return count


async def overdue_events(database_url: str) -> list[dict[str, Any]]:
    rows = [r for r in await outbox(database_url) if r.event_type == OVERDUE]
    return [json.loads(r.payload)["data"] for r in rows]


async def test_overdue_actions_are_announced_once_each(care_plans: CarePlans) -> None:
    person = await care_plans.record_person()
    current = (await care_plans.plan(person["id"])).json()
    plan = (await care_plans.put(person["id"], full_plan(current), '"1"')).json()
    gp_action, social_action = plan["actions"][1], plan["actions"][0]
    assert await announce(care_plans) == 0  # nothing is due yet

    care_plans.clock.advance(days=8)  # 1 December: the GP's action (due 30 Nov) is overdue
    assert await announce(care_plans) == 1
    assert await announce(care_plans) == 0  # once only
    (event,) = await overdue_events(care_plans.settings.database_url)
    assert event["action_id"] == gp_action["id"]
    assert event["owner_org"] == "F83004"
    assert event["due_date"] == "2026-11-30"
    assert "description" not in event  # the words stay here

    # The social worker completes theirs before it falls due; the GP's gets a new date.
    actions = plan["actions"]
    actions[0]["status"] = "completed"
    actions[1]["due_date"] = "2026-12-05"
    r = await care_plans.patch(person["id"], {"actions": actions}, '"2"')
    assert r.status_code == 200, r.text
    care_plans.clock.advance(days=10)
    assert await announce(care_plans) == 1  # the new due date passed: announced again
    events = await overdue_events(care_plans.settings.database_url)
    assert [e["action_id"] for e in events] == [gp_action["id"], gp_action["id"]]
    assert social_action["id"] not in {e["action_id"] for e in events}


async def test_plans_made_from_one_template_keep_their_actions_apart(
    care_plans: CarePlans,
) -> None:
    """Action ids are the document's: three plans copied from one template share them, and
    a change to one plan's actions leaves the others' alone. One run announces them all."""
    people = [await care_plans.record_person() for _ in range(3)]
    plans = []
    for person in people:
        current = (await care_plans.plan(person["id"])).json()
        r = await care_plans.put(person["id"], full_plan(current), '"1"')
        assert r.status_code == 200, r.text
        plans.append(r.json())
    first = plans[0]
    gp_action = first["actions"][1]
    r = await care_plans.patch(people[0]["id"], {"actions": [first["actions"][0]]}, '"2"')
    assert r.status_code == 200, r.text
    care_plans.clock.advance(days=20)  # every remaining action is past its date

    assert await announce(care_plans) == 5
    events = await overdue_events(care_plans.settings.database_url)
    announced = {(e["plan_id"], e["person_id"], e["action_id"]) for e in events}
    assert announced == {
        (plan["meta"]["plan_id"], plan["meta"]["person_id"], action["id"])
        for plan in plans
        for action in plan["actions"]
        if not (plan is first and action["id"] == gp_action["id"])
    }


async def test_only_an_admin_may_run_the_announcement(care_plans: CarePlans) -> None:
    r = await care_plans.client.post("/api/v1/overdue-actions/announce", headers=care_plans.gp())
    assert r.status_code == 403


async def test_the_service_watches_for_overdue_actions_by_itself(
    care_plans_settings: CarePlansSettings,
) -> None:
    settings = care_plans_settings.model_copy(update={"overdue_check_seconds": 0.05})
    app = create_app(settings, broker=InMemoryBroker())
    fake = Clock(datetime.now(UTC) - timedelta(days=30))  # plans made a month ago
    app.dependency_overrides[clock] = lambda: fake.now
    async with running(app) as client:
        care_plans = CarePlans(client, settings.auth, fake, settings, app)
        person = await care_plans.record_person()
        current = (await care_plans.plan(person["id"])).json()
        document = full_plan(current)
        for action in document["actions"]:
            action["due_date"] = (fake.now + timedelta(days=1)).date().isoformat()
        assert (await care_plans.put(person["id"], document, '"1"')).status_code == 200
        async with asyncio.timeout(20):
            while len(await overdue_events(settings.database_url)) < 2:
                await asyncio.sleep(0.05)


async def test_demo_data_loads_plans_worth_showing(
    care_plans_settings: CarePlansSettings,
) -> None:
    settings = care_plans_settings.model_copy(update={"load_demo_data": True})
    async with running(create_app(settings, broker=InMemoryBroker())) as client:
        sw = token(settings.auth, sub="sw", org="X", teams=["asc-islington-north"])
        people = {r.key for r in await outbox(settings.database_url)}
        assert len(people) == 12
        versions, overdue, organisations = [], 0, set()
        for person_id in sorted(people):
            r = await client.get(f"/api/v1/persons/{person_id}/care-plan", headers=sw)
            assert r.status_code == 200, r.text
            plan = r.json()
            versions.append(plan["meta"]["version"])
            overdue += sum(a["overdue"] for a in plan["actions"])
            organisations |= {m["organisation_name"] for m in plan["care_team"]}
            assert plan["goals"][0]["description"]
            person = (await client.get(f"/api/v1/persons/{person_id}", headers=sw)).json()
            assert person["nhs_number"].startswith("999")
        assert min(versions) >= 3
        assert overdue >= 12
        assert len(organisations) >= 4
    # A restart does not load them twice.
    async with running(create_app(settings, broker=InMemoryBroker())):
        assert len({r.key for r in await outbox(settings.database_url)}) == 12
