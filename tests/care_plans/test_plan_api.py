"""The person record and the plan through the API: About Me, needs, goals and actions with
owners and due dates, the care team, contingency plan and review; bad input refused whole."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.care_plans.conftest import GP_ORG, GP_TEAM, SOCIAL_ORG, SOCIAL_TEAM, CarePlans

ABOUT_ME = {
    "what_matters_to_me": "Staying in my own flat and seeing my grandchildren on Sundays.",
    "people_important_to_me": [
        {
            "name": "Lucia",
            "relationship": "daughter",
            "is_carer": True,
            "contact": "07700 900123",
            "consent_to_involve": True,
        }
    ],
    "communication": {
        "language": "pt",
        "interpreter_needed": True,
        "accessible_formats": ["large print"],
        "how_to_communicate_with_me": "Speak slowly; I hear better on my left side.",
    },
    "my_wellness": "My knees hurt on the stairs.",
    "please_do": ["Call before you visit"],
    "please_dont": ["Talk to my daughter instead of me"],
    "how_and_when_to_support_me": "Mornings are best.",
    "also_worth_knowing_about_me": "I was a seamstress for forty years.",
    "supported_to_write_this_by": "Sam, social worker",
}


def full_plan(current: dict[str, Any]) -> dict[str, Any]:
    """A realistic plan on top of the record's current care team (the GP who recorded it)."""
    (gp,) = current["care_team"]
    social = {
        "id": "7a0f3b1e-8c53-4c1a-9d0e-1d6f6f0c0a01",
        "name": "Islington adult social care, north",
        "role": "Social worker",
        "organisation": SOCIAL_ORG,
        "team": SOCIAL_TEAM,
    }
    need = {"id": "1b1e9a64-7c1f-4f55-8f0e-5a2a9f3c0b01", "description": "I feel lonely"}
    goal = {
        "id": "2c2e9a64-7c1f-4f55-8f0e-5a2a9f3c0b02",
        "need_id": need["id"],
        "description": "To get out of the house twice a week",
        "importance": 9,
        "status": "in_progress",
        "target_date": "2027-03-01",
        "outcome_measures": ["ONS4"],
    }
    return {
        "status": "active",
        "about_me": ABOUT_ME,
        "story": "I moved here in 1975. Since my husband died I rarely go out.",
        "strengths": ["My daughter visits", "I like cooking"],
        "needs": [need],
        "goals": [goal],
        "actions": [
            {
                "id": "3d3e9a64-7c1f-4f55-8f0e-5a2a9f3c0b03",
                "goal_id": goal["id"],
                "description": "Introduce Rosa to the lunch club at the community centre",
                "owner": social["id"],
                "due_date": "2026-12-01",
            },
            {
                "id": "4e4e9a64-7c1f-4f55-8f0e-5a2a9f3c0b04",
                "description": "Review pain relief for her knees",
                "owner": gp["id"],
                "due_date": "2026-11-30",
            },
        ],
        "contacts": [{"kind": "personal", "name": "Lucia", "role": "daughter"}],
        "care_team": [gp, social],
        "contingency_plan": {
            "trigger_factors": ["A fall", "Lucia is away"],
            "what_should_happen": "Call Lucia, then the GP practice; if out of hours, NHS 111.",
            "who_to_contact": ["Lucia 07700 900123", "Archway Medical Centre"],
        },
        "agreed": {"agreed_with": "Rosa", "agreed_on": "2026-11-23"},
        "review_date": "2027-02-01",
        "review_responsible": gp["id"],
    }


async def test_a_person_recorded_without_a_referral_starts_an_empty_plan_with_their_team(
    care_plans: CarePlans,
) -> None:
    person = await care_plans.record_person()
    assert person["recorded_from"] == "care_plans"
    assert person["neighbourhood"] == "U02795"  # Archway's PCN, from the reference data
    assert person["plan_version"] == 1
    r = await care_plans.plan(person["id"])
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"1"'
    plan = r.json()
    assert plan["status"] == "draft"
    assert plan["meta"]["version"] == 1
    assert plan["meta"]["relationship"] == "care_team"
    (member,) = plan["care_team"]
    assert (member["team"], member["organisation"], member["key_worker"]) == (
        GP_TEAM,
        GP_ORG,
        True,
    )
    assert await care_plans.event_types() == [
        "carethread.person-record.created.v1",
        "carethread.care-plan.created.v1",
        "carethread.care-team.member-joined.v1",
        "carethread.audit.recorded.v1",  # the create
        "carethread.audit.recorded.v1",  # the read
    ]


async def test_the_full_plan_is_saved_as_a_new_version_and_read_back(
    care_plans: CarePlans,
) -> None:
    person = await care_plans.record_person()
    current = (await care_plans.plan(person["id"])).json()
    r = await care_plans.put(person["id"], full_plan(current), '"1"')
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"2"'
    saved = r.json()
    assert saved["about_me"]["what_matters_to_me"].startswith("Staying in my own flat")
    assert saved["about_me"]["date_updated"] == "2026-11-23"  # stamped: About Me changed
    assert saved["about_me"]["people_important_to_me"][0]["consent_to_involve"] is True
    assert [a["overdue"] for a in saved["actions"]] == [False, False]

    again = (await care_plans.plan(person["id"])).json()
    assert again["goals"] == saved["goals"]
    assert again["contingency_plan"]["trigger_factors"] == ["A fall", "Lucia is away"]
    assert again["review_date"] == "2027-02-01"
    person_view = (
        await care_plans.client.get(f"/api/v1/persons/{person['id']}", headers=care_plans.gp())
    ).json()
    assert person_view["about_me"]["communication"]["interpreter_needed"] is True
    assert person_view["plan_version"] == 2

    types = await care_plans.event_types()
    assert "carethread.care-plan.updated.v1" in types
    assert types.count("carethread.plan-action.added.v1") == 2
    assert types.count("carethread.goal.added.v1") == 1
    assert types.count("carethread.care-team.member-joined.v1") == 2  # GP at start, then ASC


async def test_an_action_is_flagged_overdue_once_its_due_date_passes(
    care_plans: CarePlans,
) -> None:
    person = await care_plans.record_person()
    current = (await care_plans.plan(person["id"])).json()
    assert (await care_plans.put(person["id"], full_plan(current), '"1"')).status_code == 200
    care_plans.clock.advance(days=7)  # 30 November: due 30 Nov is not yet overdue
    plan = (await care_plans.plan(person["id"])).json()
    assert [a["overdue"] for a in plan["actions"]] == [False, False]
    care_plans.clock.advance(days=1)  # 1 December
    plan = (await care_plans.plan(person["id"])).json()
    assert [a["overdue"] for a in plan["actions"]] == [False, True]
    care_plans.clock.advance(days=1)
    plan = (await care_plans.plan(person["id"])).json()
    assert [a["overdue"] for a in plan["actions"]] == [True, True]


async def test_a_merge_patch_changes_only_what_it_names(care_plans: CarePlans) -> None:
    person = await care_plans.record_person()
    current = (await care_plans.plan(person["id"])).json()
    assert (await care_plans.put(person["id"], full_plan(current), '"1"')).status_code == 200
    r = await care_plans.patch(
        person["id"],
        {"about_me": {"my_wellness": "Better since the physio."}, "strengths": None},
        '"2"',
    )
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"3"'
    plan = r.json()
    assert plan["about_me"]["my_wellness"] == "Better since the physio."
    assert plan["about_me"]["what_matters_to_me"].startswith("Staying in my own flat")
    assert plan["strengths"] == []  # null removes: back to the default
    assert len(plan["goals"]) == 1


async def test_a_read_sent_back_unchanged_is_accepted_and_adds_no_version(
    care_plans: CarePlans,
) -> None:
    person = await care_plans.record_person()
    current = (await care_plans.plan(person["id"])).json()
    assert (await care_plans.put(person["id"], full_plan(current), '"1"')).status_code == 200
    read = (await care_plans.plan(person["id"])).json()  # with meta and overdue flags
    r = await care_plans.put(person["id"], read, '"2"')
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"2"'


async def test_overdue_goes_by_the_date_in_london_not_in_utc(care_plans: CarePlans) -> None:
    care_plans.clock.now = datetime(2027, 6, 14, 12, 0, tzinfo=UTC)  # British Summer Time
    person = await care_plans.record_person()
    current = (await care_plans.plan(person["id"])).json()
    action = {
        "description": "Ring about the blue badge",
        "owner": current["care_team"][0]["id"],
        "due_date": "2027-06-15",
    }
    r = await care_plans.patch(person["id"], {"actions": [action]}, '"1"')
    assert r.status_code == 200, r.text

    care_plans.clock.now = datetime(2027, 6, 15, 22, 59, tzinfo=UTC)  # 23:59 on the 15th
    (read,) = (await care_plans.plan(person["id"])).json()["actions"]
    assert read["overdue"] is False
    care_plans.clock.now = datetime(2027, 6, 15, 23, 30, tzinfo=UTC)  # 00:30 on the 16th
    (read,) = (await care_plans.plan(person["id"])).json()["actions"]
    assert read["overdue"] is True
