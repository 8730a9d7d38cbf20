"""Front-door activity: volumes by source and need, and time to triage, published with
small numbers suppressed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from carethread.events import CloudEvent
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from outcomes.domain.activity import time_to_triage, volumes
from outcomes.domain.disclosure import Policy
from tests.outcomes.conftest import Outcomes
from tests.outcomes.events_in import (
    AT,
    deliver,
    person_registered,
    referral_received,
    referral_triaged,
)

NUMBERS = synthetic_nhs_numbers(start=66_000)


def test_time_to_triage_median_and_90th_percentile() -> None:
    pairs = [(AT, AT + timedelta(hours=h)) for h in range(1, 11)]  # 1..10 hours
    got = time_to_triage(pairs, Policy(max_small=0, round_to=1))
    assert (got.triaged, got.median_hours, got.p90_hours) == (10, 5.5, 9.1)
    small = time_to_triage(pairs[:5], Policy())
    assert small.suppressed
    assert small.median_hours is None


def test_volumes_suppress_small_groups() -> None:
    got = volumes(["gp"] * 12 + ["self"] * 3, Policy())
    assert [(v.group, v.referrals, v.suppressed) for v in got] == [
        ("gp", 10, False),
        ("self", None, True),
    ]


async def test_referral_activity_by_source_need_and_time_to_triage(outcomes: Outcomes) -> None:
    events: list[CloudEvent] = []
    for i in range(20):
        nhs = next(NUMBERS)
        pid, rid = person_id_for_nhs_number(nhs), uuid.uuid4()
        source = "gp" if i < 16 else "self"
        reasons = ("isolation", "debt-benefits") if i % 2 else ("isolation",)
        events += [
            person_registered(nhs),
            referral_received(pid, rid, source=source, reasons=reasons),
        ]
        if i < 10:
            events.append(referral_triaged(pid, rid, at=AT + timedelta(hours=i + 1)))
    await deliver(outcomes.app, *events)
    r = await outcomes.client.get(
        "/api/v1/referral-activity",
        params={"period": "2026-09"},
        headers=outcomes.as_(roles=["analyst"], org="93C"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["by_source"] == [
        {"group": "gp", "referrals": 15, "suppressed": False},  # 16, rounded
        {"group": "self", "referrals": None, "suppressed": True},  # 4: never shown
    ]
    assert body["by_need"] == [
        {"group": "debt-benefits", "referrals": 10, "suppressed": False},
        {"group": "isolation", "referrals": 20, "suppressed": False},
    ]
    assert body["time_to_triage"] == {
        "triaged": 10,
        "median_hours": 5.5,
        "p90_hours": 9.1,
        "suppressed": False,
    }
    r = await outcomes.client.get(
        "/api/v1/referral-activity",
        params={"period": "2026-10"},
        headers=outcomes.as_(roles=["analyst"], org="93C"),
    )
    assert r.json()["by_source"] == []


@pytest.mark.parametrize("roles", [["practitioner"], ["triager"]])
async def test_referral_activity_is_for_analysts(outcomes: Outcomes, roles: list[str]) -> None:
    r = await outcomes.client.get("/api/v1/referral-activity", headers=outcomes.as_(roles=roles))
    assert r.status_code == 403
