"""Recording measures: scored and range-checked by the service, attributed, audited and
announced through the outbox; a person's pre/post change; bad input is a clear 4xx that
writes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from carethread.db.tables import AuditRow, OutboxRow
from carethread.events.outcomes import OutcomeMeasureRecordedV1
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from outcomes.store.tables import MeasureChangeRow, MeasureRow
from tests.outcomes.conftest import Outcomes
from tests.outcomes.events_in import (
    VCSE_SERVICE,
    care_team_joined,
    deliver,
    person_registered,
    referral_received,
    referral_triaged,
)

NUMBERS = synthetic_nhs_numbers(start=61_000)


def link_worker(outcomes: Outcomes) -> dict[str, str]:
    """A social prescribing link worker at the VCSE service the referral went to."""
    return outcomes.as_(roles=["practitioner"], org="VCS01", teams=[VCSE_SERVICE], sub="lw.ana")


async def routed_person(outcomes: Outcomes) -> tuple[uuid.UUID, uuid.UUID]:
    """A person the front door registered and social-prescribed to the VCSE service."""
    nhs = next(NUMBERS)
    person_id, referral_id = person_id_for_nhs_number(nhs), uuid.uuid4()
    await deliver(
        outcomes.app,
        person_registered(nhs),
        referral_received(person_id, referral_id),
        referral_triaged(person_id, referral_id),
    )
    return person_id, referral_id


def swemwbs(person_id: uuid.UUID, referral_id: uuid.UUID, answers: list[int]) -> dict[str, Any]:
    return {
        "person_id": str(person_id),
        "instrument": "swemwbs",
        "answers": answers,
        "context": {"referral_id": str(referral_id)},
    }


async def test_a_swemwbs_measure_is_scored_raw_and_metric_attributed_and_announced(
    outcomes: Outcomes,
) -> None:
    person_id, referral_id = await routed_person(outcomes)
    r = await outcomes.client.post(
        "/api/v1/measures",
        json=swemwbs(person_id, referral_id, [4, 3, 4, 4, 3, 4, 3]),
        headers=link_worker(outcomes),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["score"] == {"raw": 25, "metric": 22.35}
    assert body["context"] == {"kind": "referral", "id": str(referral_id)}
    assert (body["recorded_by"], body["recorded_by_org"]) == ("lw.ana", "VCS01")
    assert body["recorded_at"].startswith(outcomes.clock.now.date().isoformat())

    (event,) = await outcomes.outbox(OutcomeMeasureRecordedV1.event_type)
    assert event["id"] == body["event_id"]
    assert event["personid"] == str(person_id)
    assert event["data"]["measure_id"] == body["id"]
    assert {s["scale"]: s["value"] for s in event["data"]["scores"]} == {"raw": 25, "metric": 22.35}
    assert "answers" not in event["data"]  # licensed item answers stay in the service
    assert event["data"]["change_since_first"] is None

    audit = [a for a in await outcomes.audit() if a.resource_type == "OutcomeMeasure"]
    assert [(a.action, a.actor, a.outcome, a.person_id) for a in audit] == [
        ("create", "lw.ana", "success", person_id)
    ]


async def test_before_and_after_give_the_change_against_the_meaningful_threshold(
    outcomes: Outcomes,
) -> None:
    person_id, referral_id = await routed_person(outcomes)
    headers = link_worker(outcomes)
    before = await outcomes.client.post(
        "/api/v1/measures", json=swemwbs(person_id, referral_id, [2, 3, 3, 3, 3, 3, 3]),
        headers=headers,
    )  # fmt: skip
    assert before.status_code == 201, before.text
    outcomes.clock.now += timedelta(weeks=12)
    after = await outcomes.client.post(
        "/api/v1/measures", json=swemwbs(person_id, referral_id, [4, 3, 4, 4, 3, 4, 3]),
        headers=headers,
    )  # fmt: skip
    assert after.status_code == 201, after.text

    r = await outcomes.client.get(f"/api/v1/persons/{person_id}/measures", headers=headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert [m["id"] for m in got["measures"]] == [before.json()["id"], after.json()["id"]]
    (pair,) = got["pairs"]
    assert pair["instrument"] == "swemwbs"
    assert (pair["before_measure_id"], pair["after_measure_id"]) == (
        before.json()["id"],
        after.json()["id"],
    )
    metric = next(c for c in pair["changes"] if c["scale"] == "metric")
    # raw 20 -> 25: metric 18.59 -> 22.35, +3.76, past the 3-point threshold
    assert metric == {
        "scale": "metric",
        "before": 18.59,
        "after": 22.35,
        "change": 3.76,
        "meaningful_change": 3.0,
        "direction": "improved",
    }
    events = await outcomes.outbox(OutcomeMeasureRecordedV1.event_type)
    assert [e["data"]["change_direction"] for e in events] == [None, "improved"]
    assert await outcomes.count(MeasureChangeRow, MeasureChangeRow.person_id == person_id) == 2


async def test_a_care_team_member_may_record_and_read_an_ons4(outcomes: Outcomes) -> None:
    nhs = next(NUMBERS)
    person_id = person_id_for_nhs_number(nhs)
    await deliver(outcomes.app, person_registered(nhs), care_team_joined(person_id, "dn-north"))
    nurse = outcomes.as_(roles=["practitioner"], teams=["dn-north"], org="RAP")
    r = await outcomes.client.post(
        "/api/v1/measures",
        json={
            "person_id": str(person_id),
            "instrument": "ons4",
            "answers": [6, 7, 5, 6],
            "context": {"review": "care-plan-review-2026-09"},
        },
        headers=nurse,
    )
    assert r.status_code == 201, r.text
    assert [(s["scale"], s["value"], s["band"]) for s in r.json()["scores"]] == [
        ("life_satisfaction", 6, "medium"),
        ("worthwhile", 7, "high"),
        ("happiness", 5, "medium"),
        ("anxiety", 6, "high"),
    ]
    r = await outcomes.client.get(f"/api/v1/persons/{person_id}/measures", headers=nurse)
    assert r.status_code == 200
    assert r.json()["measures"][0]["context"] == {
        "kind": "review",
        "id": "care-plan-review-2026-09",
    }


async def test_the_person_reads_their_own_and_no_one_else_s(outcomes: Outcomes) -> None:
    person_id, _ = await routed_person(outcomes)
    other, _ = await routed_person(outcomes)
    me = outcomes.as_(roles=["person"], sub=str(person_id))
    assert (
        await outcomes.client.get(f"/api/v1/persons/{person_id}/measures", headers=me)
    ).status_code == 200
    r = await outcomes.client.get(f"/api/v1/persons/{other}/measures", headers=me)
    assert r.status_code == 403


async def test_without_a_relationship_reading_or_recording_is_refused_and_audited(
    outcomes: Outcomes,
) -> None:
    person_id, referral_id = await routed_person(outcomes)
    stranger = outcomes.as_(roles=["practitioner"], teams=["dn-barnet"], org="RRP", sub="x")
    r = await outcomes.client.post(
        "/api/v1/measures",
        json=swemwbs(person_id, referral_id, [3] * 7),
        headers=stranger,
    )
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    r = await outcomes.client.get(f"/api/v1/persons/{person_id}/measures", headers=stranger)
    assert r.status_code == 403
    assert await outcomes.count(MeasureRow) == 0
    denied = [a for a in await outcomes.audit() if a.outcome == "denied"]
    assert [(a.action, a.actor) for a in denied] == [("create", "x"), ("read", "x")]
    # An analyst sees aggregates, never a person's results.
    analyst = outcomes.as_(roles=["analyst"], org="93C")
    r = await outcomes.client.get(f"/api/v1/persons/{person_id}/measures", headers=analyst)
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"instrument": "wemwbs14"}, "instrument", "unknown instrument"),
        ({"answers": [4, 3, 4, 4, 3, 4]}, "answers", "expected 7 answers"),
        ({"answers": []}, "answers", "expected 7 answers"),
        ({"answers": [4, 3, 4, 6, 3, 4, 3]}, "answers.3", "item 4"),
        ({"answers": [4, 3, 4, 0, 3, 4, 3]}, "answers.3", "item 4"),
        ({"context": {}}, "context", "exactly one"),
        ({"context": {"referral_id": str(uuid.uuid4()), "review": "r1"}}, "context", "exactly one"),
        ({"person_id": "not-a-uuid"}, "person_id", ""),
        ({"recorded_at": "2099-01-01T00:00:00Z"}, "recorded_at", "future"),
    ],
)
async def test_bad_input_is_a_422_problem_naming_the_field_and_writes_nothing(
    outcomes: Outcomes, change: dict[str, Any], field: str, says: str
) -> None:
    person_id, referral_id = await routed_person(outcomes)
    body = {**swemwbs(person_id, referral_id, [4, 3, 4, 4, 3, 4, 3]), **change}
    r = await outcomes.client.post("/api/v1/measures", json=body, headers=link_worker(outcomes))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert any(e["field"].startswith(field) for e in problem["errors"]), problem
    assert says in r.text
    assert await outcomes.count(MeasureRow) == 0
    assert (
        await outcomes.count(OutboxRow, OutboxRow.event_type == OutcomeMeasureRecordedV1.event_type)
        == 0
    )
    assert await outcomes.count(AuditRow, AuditRow.resource_type == "OutcomeMeasure") == 0


async def test_a_measure_for_a_person_the_service_never_heard_of_is_refused(
    outcomes: Outcomes,
) -> None:
    stranger = person_id_for_nhs_number(next(NUMBERS))
    r = await outcomes.client.post(
        "/api/v1/measures",
        json=swemwbs(stranger, uuid.uuid4(), [3] * 7),
        headers=outcomes.as_(roles=["admin"]),
    )
    assert r.status_code == 422
    assert f"unknown person {stranger}" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "person_id"
    assert await outcomes.count(MeasureRow) == 0


async def test_externally_scored_pam_and_goal_attainment(outcomes: Outcomes) -> None:
    person_id, referral_id = await routed_person(outcomes)
    headers = link_worker(outcomes)
    r = await outcomes.client.post(
        "/api/v1/measures",
        json={
            "person_id": str(person_id),
            "instrument": "pam",
            "scores": {"score": 58.1, "level": 3},
            "context": {"social_prescription": str(referral_id)},
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["score"] == {"score": 58.1, "level": 3}
    assert r.json()["context"]["kind"] == "social_prescription"
    r = await outcomes.client.post(
        "/api/v1/measures",
        json={
            "person_id": str(person_id),
            "instrument": "gas",
            "answers": [1, 0, 2],
            "context": {"review": "goals-review-1"},
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["score"] == {"t_score": 63.69}  # 50 + 10*3/sqrt(0.7*3 + 0.3*9)
    r = await outcomes.client.post(
        "/api/v1/measures",
        json={
            "person_id": str(person_id),
            "instrument": "pam",
            "scores": {"score": 58.1, "level": 7},
            "context": {"review": "x"},
        },
        headers=headers,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "scores.level"


async def test_a_retry_with_the_same_idempotency_key_returns_the_original(
    outcomes: Outcomes,
) -> None:
    person_id, referral_id = await routed_person(outcomes)
    headers = {**link_worker(outcomes), "Idempotency-Key": "tablet-42"}
    body = swemwbs(person_id, referral_id, [3] * 7)
    first = await outcomes.client.post("/api/v1/measures", json=body, headers=headers)
    again = await outcomes.client.post("/api/v1/measures", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert await outcomes.count(MeasureRow) == 1
