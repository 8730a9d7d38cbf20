"""The FHIR R4 (UK Core) facade: the shared plan as valid resources for EPRs, and the official
UK Core Patient, CarePlan and CareTeam examples accepted on POST."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource

from carethread.nhs import is_valid_nhs_number
from tests.care_plans.conftest import CarePlans
from tests.care_plans.test_plan_api import full_plan

FIXTURES = Path(__file__).parent / "fixtures" / "uk-core"
FHIR_JSON = "application/fhir+json"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS = "https://fds.nhs.uk/Id/ods-organization-code"
MODELS: dict[str, type[Resource]] = {
    "Patient": Patient,
    "CarePlan": CarePlan,
    "CareTeam": CareTeam,
    "Goal": Goal,
    "Bundle": Bundle,
}


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"UKCore-{name}-Example.json").read_text())
    return data


def check_uk_core(resource: dict[str, Any], person_id: str) -> None:
    """Structure by the R4B models, then the UK Core rules the models do not know."""
    kind = resource["resourceType"]
    MODELS[kind].model_validate(resource)
    if kind == "Bundle":
        for entry in resource["entry"]:
            check_uk_core(entry["resource"], person_id)
        return
    if kind in ("Patient", "CarePlan", "CareTeam"):
        assert resource["meta"]["profile"] == [
            f"https://fhir.hl7.org.uk/StructureDefinition/UKCore-{kind}"
        ]
    if kind == "Patient":
        for ident in resource.get("identifier", []):
            if ident["system"] == NHS_NUMBER:
                assert is_valid_nhs_number(ident["value"])
                assert ident["value"].startswith("999")
    else:
        assert resource["subject"]["reference"] == f"Patient/{person_id}"
    for p in resource.get("participant", []):
        ident = p.get("onBehalfOf", {}).get("identifier")
        if ident:
            assert ident["system"] == ODS


async def get(care_plans: CarePlans, path: str, **params: str) -> dict[str, Any]:
    r = await care_plans.client.get(f"/fhir/{path}", params=params, headers=care_plans.gp())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == FHIR_JSON
    body: dict[str, Any] = r.json()
    return body


async def post(
    care_plans: CarePlans, kind: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    return await care_plans.client.post(
        f"/fhir/{kind}",
        content=json.dumps(body).encode(),
        headers={**(headers or care_plans.gp()), "Content-Type": FHIR_JSON},
    )


async def test_a_full_plan_is_valid_uk_core(care_plans: CarePlans) -> None:
    person = await care_plans.record_person(sex="female", phone="020 7946 0000")
    person_id = person["id"]
    current = (await care_plans.plan(person_id)).json()
    assert (await care_plans.put(person_id, full_plan(current), '"1"')).status_code == 200
    care_plans.clock.advance(days=8)  # one action overdue

    patient = await get(care_plans, f"Patient/{person_id}")
    check_uk_core(patient, person_id)
    assert patient["identifier"] == [{"system": NHS_NUMBER, "value": person["nhs_number"]}]
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "pt"

    found = await get(care_plans, "Patient", identifier=f"{NHS_NUMBER}|{person['nhs_number']}")
    check_uk_core(found, person_id)
    assert [e["resource"]["id"] for e in found["entry"]] == [person_id]

    plans = await get(care_plans, "CarePlan", subject=f"Patient/{person_id}")
    check_uk_core(plans, person_id)
    (plan,) = [e["resource"] for e in plans["entry"]]
    assert plan["status"] == "active"
    assert plan["meta"]["versionId"] == "2"
    assert [a["detail"]["status"] for a in plan["activity"]] == ["not-started", "not-started"]
    assert plan["activity"][1]["detail"]["statusReason"]["text"] == "Overdue"
    assert any(n["text"].startswith("What matters to me: Staying") for n in plan["note"])
    assert await get(care_plans, f"CarePlan/{plan['id']}") == plan

    teams = await get(care_plans, "CareTeam", subject=f"Patient/{person_id}")
    check_uk_core(teams, person_id)
    (team,) = [e["resource"] for e in teams["entry"]]
    assert [p["onBehalfOf"]["identifier"]["value"] for p in team["participant"]] == [
        "F83004",
        "00AU",
    ]
    assert {"text": "Key worker"} in team["participant"][0]["role"]

    goals = await get(care_plans, "Goal", subject=f"Patient/{person_id}")
    check_uk_core(goals, person_id)
    (goal,) = [e["resource"] for e in goals["entry"]]
    assert goal["lifecycleStatus"] == "active"
    assert goal["description"]["text"] == "To get out of the house twice a week"
    assert f"Goal/{goal['id']}" in [g["reference"] for g in plan["goal"]]


async def test_the_official_uk_core_examples_are_accepted(care_plans: CarePlans) -> None:
    r = await post(care_plans, "Patient", example("Patient-RichardSmith"))
    assert r.status_code == 201, r.text
    patient = r.json()
    person_id = patient["id"]
    assert r.headers["Location"].endswith(f"/fhir/Patient/{person_id}")
    assert patient["identifier"][0]["value"] == "9991200398"
    assert (patient["name"][0]["family"], patient["birthDate"]) == ("SMITH", "1970-09-11")
    again = await post(care_plans, "Patient", example("Patient-RichardSmith"))
    assert (again.status_code, again.json()["id"]) == (200, person_id)

    # The CarePlan and CareTeam examples name the subject by the sender's id for him.
    r = await post(care_plans, "CarePlan", example("CarePlan-WellnessPlan"))
    assert r.status_code == 201, r.text
    check_uk_core(r.json(), person_id)
    plan = (await care_plans.plan(person_id)).json()
    (action,) = plan["actions"]
    assert (action["description"], action["status"]) == ("Body weight", "completed")
    assert plan["meta"]["version"] == 2
    r = await post(care_plans, "CarePlan", example("CarePlan-WellnessPlan"))
    assert r.status_code == 201
    assert (await care_plans.plan(person_id)).json()["meta"]["version"] == 2  # no change

    inactive = example("CareTeam-WeightManagementTeam")
    active = {**inactive, "status": "active"}
    r = await post(care_plans, "CareTeam", active)
    assert r.status_code == 201, r.text
    check_uk_core(r.json(), person_id)
    names = [m["name"] for m in (await care_plans.plan(person_id)).json()["care_team"]]
    assert "UKCore-Practitioner-PaulRastall-Example" in names
    r = await post(care_plans, "CareTeam", inactive)  # the team stood down: they leave
    assert r.status_code == 201, r.text
    names = [m["name"] for m in (await care_plans.plan(person_id)).json()["care_team"]]
    assert "UKCore-Practitioner-PaulRastall-Example" not in names

    r = await post(care_plans, "Patient", example("Patient-Sn-SingleLanguage"))
    assert r.status_code == 201, r.text
    assert "identifier" not in r.json()  # no NHS number: a person we gave an id


@pytest.mark.parametrize(
    ("kind", "change", "expression"),
    [
        ("CarePlan", {"subject": {"reference": "Patient/nobody"}}, "CarePlan.subject"),
        ("CarePlan", {"status": "bogus"}, "CarePlan.status"),
        ("CareTeam", {"subject": {"reference": f"Patient/{uuid.uuid4()}"}}, "CareTeam.subject"),
    ],
)
async def test_a_resource_that_cannot_be_taken_is_refused_naming_where(
    care_plans: CarePlans, kind: str, change: dict[str, Any], expression: str
) -> None:
    assert (await post(care_plans, "Patient", example("Patient-RichardSmith"))).status_code == 201
    name = "CarePlan-WellnessPlan" if kind == "CarePlan" else "CareTeam-WeightManagementTeam"
    r = await post(care_plans, kind, {**example(name), **change})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == FHIR_JSON
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert expression in [e for i in outcome["issue"] for e in i.get("expression", [])]


async def test_an_open_activity_due_in_the_past_is_refused_at_its_path(
    care_plans: CarePlans,
) -> None:
    assert (await post(care_plans, "Patient", example("Patient-RichardSmith"))).status_code == 201
    plan = example("CarePlan-WellnessPlan")
    detail = plan["activity"][0]["detail"]
    detail["status"] = "scheduled"
    del detail["scheduledTiming"]  # scheduled[x] is a choice: one of them
    detail["scheduledPeriod"] = {"end": "2020-01-01"}
    r = await post(care_plans, "CarePlan", plan)
    assert r.status_code == 422, r.text
    (issue,) = r.json()["issue"]
    assert issue["expression"] == ["CarePlan.activity[0].detail.scheduledPeriod.end"]


async def test_fhir_refusals_are_operation_outcomes(care_plans: CarePlans) -> None:
    person_id = (await care_plans.record_person())["id"]
    r = await care_plans.client.get(f"/fhir/Patient/{person_id}", headers=care_plans.outsider())
    assert r.status_code == 403
    assert r.json()["issue"][0]["code"] == "forbidden"
    r = await care_plans.client.get(f"/fhir/CarePlan/{uuid.uuid4()}", headers=care_plans.gp())
    assert r.status_code == 404
    assert r.json()["resourceType"] == "OperationOutcome"
    r = await care_plans.client.get(f"/fhir/Patient/{person_id}")
    assert r.status_code == 401
    assert r.json()["resourceType"] == "OperationOutcome"
    bad = example("Patient-RichardSmith")
    bad["identifier"][0]["value"] = "9991200399"
    r = await post(care_plans, "Patient", bad)
    assert r.status_code == 422
    assert r.json()["issue"][0]["expression"] == ["Patient.identifier[0].value"]


async def test_a_search_that_finds_no_one_is_an_empty_bundle(care_plans: CarePlans) -> None:
    nobody = care_plans.next_nhs_number()
    bundle = await get(care_plans, "Patient", identifier=f"{NHS_NUMBER}|{nobody}")
    Bundle.model_validate(bundle)
    assert (bundle["type"], bundle["total"], bundle["entry"]) == ("searchset", 0, [])
    r = await care_plans.client.get(
        "/fhir/Patient", params={"identifier": nobody}, headers=care_plans.gp()
    )
    assert r.status_code == 400  # the system is required: an NHS number, not any identifier
    assert r.json()["resourceType"] == "OperationOutcome"


async def test_a_plan_from_a_system_without_a_relationship_is_refused(
    care_plans: CarePlans,
) -> None:
    r = await post(care_plans, "Patient", example("Patient-RichardSmith"))
    person_id = r.json()["id"]
    plan = {
        **example("CarePlan-WellnessPlan"),
        "subject": {"reference": f"Patient/{person_id}"},
    }
    r = await post(care_plans, "CarePlan", plan, care_plans.outsider())
    assert r.status_code == 403, r.text
    assert r.json()["issue"][0]["code"] == "forbidden"
    assert (await care_plans.plan(person_id)).json()["actions"] == []


async def test_a_care_plans_goals_become_goals_of_the_plan_with_their_actions(
    care_plans: CarePlans,
) -> None:
    r = await post(care_plans, "Patient", example("Patient-RichardSmith"))
    person_id = r.json()["id"]
    plan = example("CarePlan-WellnessPlan")
    plan["contained"] = [
        {
            "resourceType": "Goal",
            "id": "weight",
            "lifecycleStatus": "active",
            "description": {"text": "Lose a stone by the summer"},
            "subject": {"reference": "Patient/UKCore-Patient-RichardSmith-Example"},
            "target": [{"dueDate": "2027-07-01"}],
        }
    ]
    plan["goal"] = [{"reference": "#weight"}, {"display": "Walk to the shops again"}]
    plan["activity"][0]["detail"]["goal"] = [{"reference": "#weight"}]
    r = await post(care_plans, "CarePlan", plan)
    assert r.status_code == 201, r.text

    saved = (await care_plans.plan(person_id)).json()
    goals = {g["description"]: g for g in saved["goals"]}
    assert set(goals) == {"Lose a stone by the summer", "Walk to the shops again"}
    weight = goals["Lose a stone by the summer"]
    assert (weight["status"], weight["target_date"]) == ("in_progress", "2027-07-01")
    (action,) = saved["actions"]
    assert action["goal_id"] == weight["id"]
    found = await get(care_plans, "Goal", subject=f"Patient/{person_id}")
    assert len(found["entry"]) == 2
    check_uk_core(found, person_id)

    again = await post(care_plans, "CarePlan", plan)  # the same again: nothing changes
    assert again.status_code == 201
    assert (await care_plans.plan(person_id)).json()["meta"]["version"] == saved["meta"]["version"]
