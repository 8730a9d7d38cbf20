"""The FHIR R4 facade: a QuestionnaireResponse recorded as a measure (scored here), a
person's Observations, an indicator's MeasureReport; errors as OperationOutcomes naming the
FHIRPath. Every resource the service returns validates against the R4B models."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.measurereport import MeasureReport
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from outcomes.fhir import codes
from outcomes.store.tables import MeasureRow
from tests.outcomes.conftest import Outcomes
from tests.outcomes.events_in import (
    VCSE_SERVICE,
    deliver,
    person_registered,
    referral_received,
    referral_triaged,
)

NUMBERS = synthetic_nhs_numbers(start=64_000)
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def link_worker(outcomes: Outcomes) -> dict[str, str]:
    return outcomes.as_(roles=["practitioner"], org="VCS01", teams=[VCSE_SERVICE], sub="lw")


async def known_person(outcomes: Outcomes) -> tuple[uuid.UUID, uuid.UUID]:
    nhs = next(NUMBERS)
    pid, rid = person_id_for_nhs_number(nhs), uuid.uuid4()
    await deliver(
        outcomes.app,
        person_registered(nhs),
        referral_received(pid, rid),
        referral_triaged(pid, rid),
    )
    return pid, rid


def questionnaire_response(
    person_id: uuid.UUID, referral_id: uuid.UUID, instrument: str, answers: list[Any]
) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": codes.questionnaire_url(instrument),
        "subject": {"reference": f"Patient/{person_id}"},
        "basedOn": [{"reference": f"ServiceRequest/{referral_id}"}],
        "authored": "2026-09-07T10:00:00+01:00",
        "item": [
            {"linkId": str(i + 1), "answer": [{"valueInteger": a}]} for i, a in enumerate(answers)
        ],
    }


async def test_a_questionnaire_response_is_recorded_and_scored(outcomes: Outcomes) -> None:
    pid, rid = await known_person(outcomes)
    qr = questionnaire_response(pid, rid, "phq9", [1, 2, 1, 1, 0, 1, 2, 1, 1])
    r = await outcomes.client.post(
        "/fhir/QuestionnaireResponse", json=qr, headers={**link_worker(outcomes), **FHIR_JSON}
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    QuestionnaireResponse.model_validate(r.json())
    stored = r.json()
    assert r.headers["location"].endswith(f"/fhir/QuestionnaireResponse/{stored['id']}")
    assert stored["basedOn"] == [{"reference": f"ServiceRequest/{rid}"}]
    assert stored["authored"] == "2026-09-07T09:00:00+00:00"

    r = await outcomes.client.get(
        "/fhir/Observation", params={"subject": f"Patient/{pid}"}, headers=link_worker(outcomes)
    )
    assert r.status_code == 200, r.text
    Bundle.model_validate(r.json())
    assert r.json()["total"] == 1
    (obs,) = [e["resource"] for e in r.json()["entry"]]
    Observation.model_validate(obs)
    assert obs["valueQuantity"]["value"] == 10
    assert obs["code"]["coding"][0] == {
        "system": codes.LOINC,
        "code": "44261-6",
        "display": "Patient Health Questionnaire 9 item (PHQ-9) total score",
    }
    assert obs["interpretation"] == [{"text": "moderate"}]
    assert obs["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{stored['id']}"}]
    assert obs["performer"][0]["identifier"]["value"] == "VCS01"


async def test_externally_scored_pam_arrives_by_link_id(outcomes: Outcomes) -> None:
    pid, rid = await known_person(outcomes)
    qr = questionnaire_response(pid, rid, "pam", [])
    qr["item"] = [
        {"linkId": "score", "answer": [{"valueDecimal": 61.2}]},
        {"linkId": "level", "answer": [{"valueInteger": 3}]},
    ]
    r = await outcomes.client.post(
        "/fhir/QuestionnaireResponse", json=qr, headers=link_worker(outcomes)
    )
    assert r.status_code == 201, r.text
    r = await outcomes.client.get(
        "/fhir/Observation", params={"subject": f"Patient/{pid}"}, headers=link_worker(outcomes)
    )
    values = {
        e["resource"]["code"]["coding"][0]["code"]: e["resource"]["valueQuantity"]["value"]
        for e in r.json()["entry"]
    }
    assert values == {"pam.score": 61.2, "pam.level": 3}


@pytest.mark.parametrize(
    ("change", "status", "path"),
    [
        ({"questionnaire": "https://elsewhere.example/Questionnaire/x"}, 422,
         "QuestionnaireResponse.questionnaire"),
        ({"questionnaire": codes.questionnaire_url("wemwbs14")}, 422,
         "QuestionnaireResponse.questionnaire"),
        ({"status": "in-progress"}, 422, "QuestionnaireResponse.status"),
        ({"subject": {"reference": "Patient/not-a-uuid"}}, 422, "QuestionnaireResponse.subject"),
        ({"basedOn": []}, 422, "QuestionnaireResponse.basedOn"),
        ({"authored": "2099-01-01T00:00:00Z"}, 422, "QuestionnaireResponse.authored"),
        ({"status": 7}, 422, "QuestionnaireResponse.status"),
    ],
)  # fmt: skip
async def test_bad_questionnaire_responses_are_operation_outcomes(
    outcomes: Outcomes, change: dict[str, Any], status: int, path: str
) -> None:
    pid, rid = await known_person(outcomes)
    qr = {**questionnaire_response(pid, rid, "gad7", [1, 1, 1, 1, 1, 1, 1]), **change}
    r = await outcomes.client.post(
        "/fhir/QuestionnaireResponse", json=qr, headers=link_worker(outcomes)
    )
    assert r.status_code == status, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any(path in e for i in outcome["issue"] for e in i.get("expression", [])), outcome
    assert await outcomes.count(MeasureRow) == 0


async def test_an_out_of_range_answer_names_its_item(outcomes: Outcomes) -> None:
    pid, rid = await known_person(outcomes)
    qr = questionnaire_response(pid, rid, "gad7", [1, 1, 1, 4, 1, 1, 1])
    r = await outcomes.client.post(
        "/fhir/QuestionnaireResponse", json=qr, headers=link_worker(outcomes)
    )
    assert r.status_code == 422
    (issue,) = r.json()["issue"]
    assert issue["expression"] == ["QuestionnaireResponse.item[3].answer[0]"]
    assert "item 4" in issue["diagnostics"]
    missing = questionnaire_response(pid, rid, "gad7", [1, 1, 1])
    r = await outcomes.client.post(
        "/fhir/QuestionnaireResponse", json=missing, headers=link_worker(outcomes)
    )
    assert r.status_code == 422
    assert r.json()["issue"][0]["expression"] == ["QuestionnaireResponse.item"]


async def test_observations_need_a_relationship(outcomes: Outcomes) -> None:
    pid, _ = await known_person(outcomes)
    r = await outcomes.client.get(
        "/fhir/Observation",
        params={"subject": f"Patient/{pid}"},
        headers=outcomes.as_(roles=["practitioner"], org="RRP", teams=["elsewhere"]),
    )
    assert r.status_code == 403
    assert r.json()["issue"][0]["code"] == "forbidden"


async def test_a_measure_report_per_indicator_with_strata(outcomes: Outcomes) -> None:
    for quintile in (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 5):
        nhs = next(NUMBERS)
        pid, rid = person_id_for_nhs_number(nhs), uuid.uuid4()
        await deliver(
            outcomes.app,
            person_registered(nhs, imd_quintile=quintile),
            referral_received(pid, rid, imd_quintile=quintile),
            referral_triaged(pid, rid),
        )
        outcomes.clock.now += timedelta(minutes=1)
    analyst = outcomes.as_(roles=["analyst"], org="93C")
    r = await outcomes.client.get(
        "/fhir/MeasureReport",
        params={"measure": "social-prescription-uptake", "by": "imd_quintile", "period": "2026"},
        headers=analyst,
    )
    assert r.status_code == 200, r.text
    Bundle.model_validate(r.json())
    report = r.json()["entry"][0]["resource"]
    MeasureReport.model_validate(report)
    assert report["measure"] == codes.MEASURE + "social-prescription-uptake"
    assert report["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    (stratifier,) = report["group"][0]["stratifier"]
    strata = {s["value"]["text"]: s for s in stratifier["stratum"]}
    counts = {p["code"]["coding"][0]["code"]: p["count"] for p in strata["1"]["population"]}
    assert counts == {"numerator": 0, "denominator": 10}
    # Three people in quintile 5: no count is shown for them at all.
    assert all("count" not in p for p in strata["5"]["population"])
    assert "measureScore" not in strata["5"]
    r = await outcomes.client.get(
        "/fhir/MeasureReport", params={"measure": "nope"}, headers=analyst
    )
    assert r.status_code == 404
    assert r.json()["resourceType"] == "OperationOutcome"
    r = await outcomes.client.get(
        "/fhir/MeasureReport",
        params={"measure": "social-prescription-uptake"},
        headers=outcomes.as_(roles=["practitioner"]),
    )
    assert r.status_code == 403
