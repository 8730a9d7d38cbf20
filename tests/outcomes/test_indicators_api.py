"""Indicators from the platform's events, broken down to show inequality: Wilson intervals,
the deprivation gap and slope index, small numbers suppressed and rounded (in JSON and
CSV), opt-outs left out, analysts only; unknown dimensions and periods are a 422."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from carethread.events import CloudEvent
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from outcomes.domain.statistics import RankedGroup, slope_index_of_inequality, wilson_interval
from tests.outcomes.conftest import Outcomes
from tests.outcomes.events_in import (
    AT,
    deliver,
    person_registered,
    referral_moved,
    referral_received,
    referral_triaged,
)

NUMBERS = synthetic_nhs_numbers(start=62_000)
UPTAKE = "/api/v1/indicators/social-prescription-uptake"


@dataclass(frozen=True)
class Group:
    quintile: int
    routed: int
    started: int
    sex: str = "female"


# Uptake of social prescriptions rises as deprivation falls; quintile 3 has 3 people.
GROUPS = [
    Group(1, routed=20, started=8),
    Group(2, routed=25, started=12),
    Group(3, routed=3, started=3, sex="male"),
    Group(5, routed=30, started=21),
]


def social_prescription(
    quintile: int, started: bool, sex: str = "female", **person: Any
) -> list[CloudEvent]:
    """One person, registered, referred, routed to a VCSE service and (maybe) started."""
    nhs = next(NUMBERS)
    pid, rid = person_id_for_nhs_number(nhs), uuid.uuid4()
    events = [
        person_registered(nhs, imd_quintile=quintile, sex=sex, **person),
        referral_received(pid, rid, imd_quintile=quintile),
        referral_triaged(pid, rid),
    ]
    if started:
        events.append(referral_moved(pid, rid, status="in_progress", at=AT, sequence=3))
    return events


def population() -> list[CloudEvent]:
    events = []
    for g in GROUPS:
        for i in range(g.routed):
            events += social_prescription(g.quintile, i < g.started, g.sex)
    # Someone who registered a national data opt-out: never counted.
    events += social_prescription(1, False, national_data_opt_out=True)
    return events


def analyst(outcomes: Outcomes) -> dict[str, str]:
    return outcomes.as_(roles=["analyst"], org="93C", sub="analyst.ada")


async def test_uptake_by_imd_quintile_with_intervals_gap_and_slope_index(
    outcomes: Outcomes,
) -> None:
    await deliver(outcomes.app, *population())
    r = await outcomes.client.get(UPTAKE, params={"by": "imd_quintile"}, headers=analyst(outcomes))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["indicator"]["life_course"] == "live_well"
    # 44 of 78 (the opted-out person is left out): published rounded to 45 of 80.
    assert body["overall"]["numerator"] == 45
    assert body["overall"]["denominator"] == 80
    assert body["overall"]["value"] == round(44 / 78, 4)
    cells = {c["group"]["imd_quintile"]: c for c in body["cells"]}
    assert list(cells) == ["1", "2", "3", "5"]
    assert (cells["1"]["numerator"], cells["1"]["denominator"], cells["1"]["value"]) == (
        10,
        20,
        0.4,
    )
    low, high = wilson_interval(8, 20)
    assert (cells["1"]["ci_low"], cells["1"]["ci_high"]) == (round(low, 4), round(high, 4))
    assert (cells["2"]["numerator"], cells["2"]["denominator"], cells["2"]["value"]) == (
        10,
        25,
        0.48,
    )
    assert cells["3"] == {
        "group": {"imd_quintile": "3"},
        "numerator": None,
        "denominator": None,
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "suppressed": True,
    }
    assert cells["5"]["value"] == 0.7
    gap = body["inequality"]
    assert gap["absolute_gap"] == pytest.approx(0.4 - 0.7)
    assert gap["relative_gap"] == round(0.4 / 0.7, 4)
    expected_sii = slope_index_of_inequality(
        [RankedGroup(20, 0.4), RankedGroup(25, 0.48), RankedGroup(3, 1.0), RankedGroup(30, 0.7)]
    )
    assert expected_sii is not None
    assert expected_sii < 0  # the most deprived take up less
    assert gap["slope_index_of_inequality"] == round(expected_sii, 4)
    assert body["disclosure"]["suppressed_counts"] == "1 to 7"


async def test_a_breakdown_cell_of_3_people_is_never_published_as_3(outcomes: Outcomes) -> None:
    await deliver(outcomes.app, *population())
    for by in ("sex", "core20plus5,sex", "imd_quintile"):
        r = await outcomes.client.get(UPTAKE, params={"by": by}, headers=analyst(outcomes))
        assert r.status_code == 200, r.text
        small = [c for c in r.json()["cells"] if "male" in c["group"].values()]
        small += [c for c in r.json()["cells"] if c["group"].get("imd_quintile") == "3"]
        assert small
        for cell in small:
            assert cell["suppressed"] is True
            assert 3 not in (cell["numerator"], cell["denominator"])
        csv_text = (
            await outcomes.client.get(
                f"{UPTAKE}/export.csv", params={"by": by}, headers=analyst(outcomes)
            )
        ).text
        for row in csv.DictReader(io.StringIO(csv_text)):
            assert row["numerator"] != "3"
            assert row["denominator"] != "3"


async def test_the_csv_export_carries_the_published_figures(outcomes: Outcomes) -> None:
    await deliver(outcomes.app, *population())
    params = {"by": "imd_quintile", "period": "2026-Q3"}
    as_json = (await outcomes.client.get(UPTAKE, params=params, headers=analyst(outcomes))).json()
    r = await outcomes.client.get(f"{UPTAKE}/export.csv", params=params, headers=analyst(outcomes))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "social-prescription-uptake-2026-Q3.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["group"] for row in rows] == ["all", "1", "2", "3", "5"]
    assert rows[0]["period_start"] == "2026-07-01"
    assert rows[0]["period_end"] == "2026-09-30"
    for row, cell in zip(rows, [as_json["overall"], *as_json["cells"]], strict=True):
        assert row["numerator"] == ("" if cell["numerator"] is None else str(cell["numerator"]))
        assert row["suppressed"] == str(cell["suppressed"]).lower()


async def test_the_period_selects_by_the_indicator_s_own_date(outcomes: Outcomes) -> None:
    await deliver(outcomes.app, *population())
    r = await outcomes.client.get(UPTAKE, params={"period": "2026-09"}, headers=analyst(outcomes))
    assert r.json()["overall"]["denominator"] == 80
    r = await outcomes.client.get(UPTAKE, params={"period": "2026-10"}, headers=analyst(outcomes))
    assert r.json()["overall"]["denominator"] == 0
    r = await outcomes.client.get(
        f"{UPTAKE}/series", params={"period": "2026-Q3"}, headers=analyst(outcomes)
    )
    assert [(p["period"]["label"], p["overall"]["denominator"]) for p in r.json()["points"]] == [
        ("2026-07", 0),
        ("2026-08", 0),
        ("2026-09", 80),
    ]


async def test_opt_out_list_leaves_people_out_of_population_indicators(outcomes: Outcomes) -> None:
    await deliver(outcomes.app, *population())
    before = (await outcomes.client.get(UPTAKE, headers=analyst(outcomes))).json()["overall"]
    # Ten more in quintile 1, all of whom opt out by the list.
    extra = []
    numbers = []
    for _ in range(10):
        events = social_prescription(1, False)
        extra += events
        numbers.append(events[0].data["person"]["nhs_number"])
    await deliver(outcomes.app, *extra)
    r = await outcomes.client.put(
        "/api/v1/data-opt-outs",
        json={"nhs_numbers": numbers},
        headers=outcomes.as_(roles=["admin"]),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"opted_out": 10}
    after = (await outcomes.client.get(UPTAKE, headers=analyst(outcomes))).json()["overall"]
    assert after == before
    r = await outcomes.client.put(
        "/api/v1/data-opt-outs", json={"nhs_numbers": [numbers[0], "12345"]},
        headers=outcomes.as_(roles=["admin"]),
    )  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "nhs_numbers.1"
    # Nothing changed: the earlier list still stands.
    assert (await outcomes.client.get(UPTAKE, headers=analyst(outcomes))).json()["overall"] == after
    r = await outcomes.client.put(
        "/api/v1/data-opt-outs", json={"nhs_numbers": []}, headers=analyst(outcomes)
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        (UPTAKE, {"by": "postcode"}, 422, "unknown breakdown dimension 'postcode'"),
        (UPTAKE, {"by": "sex,sex"}, 422, "one or two different dimensions"),
        (UPTAKE, {"by": "sex,borough,imd_quintile"}, 422, "one or two"),
        (UPTAKE, {"period": "2026-Q7"}, 422, "period"),
        (f"{UPTAKE}/export.csv", {"by": "shoe_size"}, 422, "unknown breakdown dimension"),
        ("/api/v1/indicators/happiness-index", {}, 404, "No indicator 'happiness-index'"),
    ],
)
async def test_bad_indicator_requests_are_clear_problems(
    outcomes: Outcomes, path: str, params: dict[str, str], status: int, says: str
) -> None:
    r = await outcomes.client.get(path, params=params, headers=analyst(outcomes))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert says in r.json()["detail"]


async def test_indicators_are_for_analysts(outcomes: Outcomes) -> None:
    practitioner = outcomes.as_(roles=["practitioner"], org="93C")
    for path in ("/api/v1/indicators", UPTAKE, f"{UPTAKE}/export.csv"):
        assert (await outcomes.client.get(path, headers=practitioner)).status_code == 403
        assert (await outcomes.client.get(path)).status_code == 401
    r = await outcomes.client.get("/api/v1/indicators", headers=analyst(outcomes))
    assert r.status_code == 200
    items = {i["id"]: i for i in r.json()["items"]}
    assert {
        "referrals-received",
        "triaged-within-target",
        "social-prescription-uptake",
        "wellbeing-improved-after-social-prescribing",
        "goals-achieved",
        "overdue-actions",
    } <= set(items)
    uptake = items["social-prescription-uptake"]
    assert uptake["denominator"] == [
        {"field": "social_prescription", "op": "is_true", "value": None}
    ]
    assert uptake["ncl_priority"]
    assert "imd_quintile" in uptake["breakdowns"]
