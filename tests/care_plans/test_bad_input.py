"""Bad input is refused with a clear problem+json that names the field; nothing is written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.care_plans.conftest import CarePlans, outbox
from tests.care_plans.test_plan_api import full_plan

PROBLEM = "application/problem+json"


async def _state(care_plans: CarePlans, person_id: str) -> tuple[str, int]:
    r = await care_plans.plan(person_id)
    return r.headers["ETag"], len(await outbox(care_plans.settings.database_url))


async def _started(care_plans: CarePlans) -> tuple[str, dict[str, Any]]:
    person = await care_plans.record_person()
    current = (await care_plans.plan(person["id"])).json()
    r = await care_plans.put(person["id"], full_plan(current), '"1"')
    assert r.status_code == 200, r.text
    plan: dict[str, Any] = r.json()
    return person["id"], plan


def _break(plan: dict[str, Any], how: str) -> dict[str, Any]:
    plan = {k: v for k, v in plan.items() if k != "meta"}
    if how == "goal without description":
        plan["goals"] = [*plan["goals"], {"status": "proposed"}]
    elif how == "blank goal description":
        plan["goals"] = [*plan["goals"], {"description": "   "}]
    elif how == "owner not in the care team":
        plan["actions"] = [
            *plan["actions"],
            {"description": "Visit", "owner": str(uuid.uuid4()), "due_date": "2026-12-24"},
        ]
    elif how == "due date in the past on create":
        owner = plan["care_team"][0]["id"]
        plan["actions"] = [
            *plan["actions"],
            {"description": "Phone Rosa", "owner": owner, "due_date": "2026-11-01"},
        ]
    elif how == "two key workers":
        plan["care_team"] = [{**m, "key_worker": True} for m in plan["care_team"]]
    elif how == "unknown field":
        plan["storry"] = "typo"
    return plan


FIELDS = {
    "goal without description": "goals.1.description",
    "blank goal description": "goals.1.description",
    "owner not in the care team": "actions.2.owner",
    "due date in the past on create": "actions.2.due_date",
    "two key workers": "care_team.1.key_worker",
    "unknown field": "storry",
}


@pytest.mark.parametrize("how", sorted(FIELDS))
async def test_an_invalid_plan_is_refused_naming_the_field_and_nothing_is_written(
    care_plans: CarePlans, how: str
) -> None:
    person_id, plan = await _started(care_plans)
    before = await _state(care_plans, person_id)
    r = await care_plans.put(person_id, _break(plan, how), '"2"')
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["status"] == 422
    assert FIELDS[how] in [e["field"] for e in problem["errors"]], problem
    after = await _state(care_plans, person_id)
    assert after[0] == before[0] == '"2"'
    assert after[1] == before[1] + 1  # only the audit of the read in _state


async def test_an_invalid_merge_patch_is_refused_naming_the_field(care_plans: CarePlans) -> None:
    person_id, plan = await _started(care_plans)
    goals = [*plan["goals"], {"description": ""}]
    r = await care_plans.patch(person_id, {"goals": goals, "story": "new"}, '"2"')
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert [e["field"] for e in r.json()["errors"]] == ["goals.1.description"]
    assert (await care_plans.plan(person_id)).json()["story"] != "new"


async def test_an_existing_overdue_action_may_stay_overdue_while_other_parts_change(
    care_plans: CarePlans,
) -> None:
    person_id, _ = await _started(care_plans)
    care_plans.clock.advance(days=10)  # both actions are now overdue
    r = await care_plans.patch(person_id, {"story": "Edited later."}, '"2"')
    assert r.status_code == 200, r.text
    assert [a["overdue"] for a in r.json()["actions"]] == [True, True]


async def test_an_unknown_person_is_404(care_plans: CarePlans) -> None:
    unknown = uuid.uuid4()
    r = await care_plans.plan(str(unknown))
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    r = await care_plans.put(str(unknown), {}, '"1"')
    assert r.status_code == 404
    r = await care_plans.client.get(f"/api/v1/persons/{unknown}", headers=care_plans.gp())
    assert r.status_code == 404


async def test_a_write_without_if_match_is_428(care_plans: CarePlans) -> None:
    person_id, plan = await _started(care_plans)
    r = await care_plans.put(person_id, plan, None)
    assert r.status_code == 428
    assert r.headers["content-type"] == PROBLEM
    assert "If-Match" in r.json()["detail"]
    r = await care_plans.patch(person_id, {"story": "x"}, None)
    assert r.status_code == 428


@pytest.mark.parametrize("value", ["2", 'W/"2"', "*", '"two"', '"2", 3'])
async def test_a_malformed_if_match_is_400(care_plans: CarePlans, value: str) -> None:
    person_id, plan = await _started(care_plans)
    r = await care_plans.patch(person_id, {"story": "changed"}, value)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["header"] == "If-Match"
    assert (await care_plans.plan(person_id)).json()["story"] == plan["story"]


async def test_a_stale_if_match_is_412_with_the_current_version(care_plans: CarePlans) -> None:
    person_id, _ = await _started(care_plans)
    r = await care_plans.patch(person_id, {"story": "changed"}, '"1"')
    assert r.status_code == 412
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["current_version"] == 2


async def test_a_patch_must_be_a_merge_patch_object(care_plans: CarePlans) -> None:
    person_id, _ = await _started(care_plans)
    url = f"/api/v1/persons/{person_id}/care-plan"
    h = {**care_plans.gp(), "If-Match": '"2"'}
    r = await care_plans.client.patch(
        url, content=b"[1]", headers={**h, "Content-Type": "application/merge-patch+json"}
    )
    assert r.status_code == 400
    r = await care_plans.client.patch(
        url, content=b"story=x", headers={**h, "Content-Type": "text/plain"}
    )
    assert r.status_code == 415
    assert r.headers["content-type"] == PROBLEM


async def test_a_person_with_an_invalid_nhs_number_is_refused(care_plans: CarePlans) -> None:
    r = await care_plans.client.post(
        "/api/v1/persons",
        json={"nhs_number": "9990000000", "given_name": "A", "family_name": "B"},
        headers=care_plans.gp(),
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["nhs_number"]


async def test_a_person_is_recorded_once(care_plans: CarePlans) -> None:
    person = await care_plans.record_person()
    r = await care_plans.client.post(
        "/api/v1/persons",
        json={"nhs_number": person["nhs_number"], "given_name": "Rosa", "family_name": "S"},
        headers=care_plans.social_worker(),
    )
    assert r.status_code == 409
    assert r.json()["person_id"] == person["id"]
