"""Every change is a new, attributed version; history and diffs are readable; concurrent
editors never lose each other's changes (optimistic concurrency, If-Match)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from care_plans.api.dependencies import clock
from care_plans.app import create_app
from care_plans.settings import CarePlansSettings
from care_plans.store.tables import PlanVersionRow
from carethread.db import create_engine, session_factory
from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import running
from tests.care_plans.conftest import GP_ORG, SOCIAL_ORG, CarePlans, Clock
from tests.care_plans.test_plan_api import full_plan


async def _two_editors(care_plans: CarePlans) -> str:
    """A plan the GP started (v1), filled in (v2), that the social worker can edit."""
    person = await care_plans.record_person()
    current = (await care_plans.plan(person["id"])).json()
    r = await care_plans.put(person["id"], full_plan(current), '"1"')
    assert r.status_code == 200, r.text
    person_id: str = person["id"]
    return person_id


async def test_two_editors_from_different_organisations_one_wins_the_other_merges(
    care_plans: CarePlans,
) -> None:
    person_id = await _two_editors(care_plans)
    gp_read = await care_plans.plan(person_id, care_plans.gp())
    sw_read = await care_plans.plan(person_id, care_plans.social_worker())
    assert gp_read.headers["ETag"] == sw_read.headers["ETag"] == '"2"'

    care_plans.clock.advance(minutes=5)
    gp = await care_plans.patch(person_id, {"story": "Rosa's own words, revised."}, '"2"')
    assert gp.status_code == 200, gp.text
    sw = await care_plans.patch(
        person_id,
        {"contingency_plan": {"safety_plan": "Key safe code with Lucia."}},
        '"2"',
        care_plans.social_worker(),
    )
    assert sw.status_code == 412, sw.text

    # The social worker reads again, merges their change into the new version, and saves.
    fresh = await care_plans.plan(person_id, care_plans.social_worker())
    assert fresh.headers["ETag"] == '"3"'
    care_plans.clock.advance(minutes=1)
    sw = await care_plans.patch(
        person_id,
        {"contingency_plan": {"safety_plan": "Key safe code with Lucia."}},
        fresh.headers["ETag"],
        care_plans.social_worker(),
    )
    assert sw.status_code == 200, sw.text
    plan = sw.json()
    assert plan["story"] == "Rosa's own words, revised."  # the GP's change was not lost
    assert plan["contingency_plan"]["safety_plan"] == "Key safe code with Lucia."

    r = await care_plans.client.get(
        f"/api/v1/persons/{person_id}/care-plan/history", headers=care_plans.gp()
    )
    assert r.status_code == 200, r.text
    history = r.json()
    assert [v["version"] for v in history] == [1, 2, 3, 4]
    assert [(v["changed_by"], v["organisation"]) for v in history[2:]] == [
        ("dr.ada", GP_ORG),
        ("sw.sam", SOCIAL_ORG),
    ]
    assert history[2]["changed_by_name"] == "Dr Ada Example"
    assert history[2]["role"] == "practitioner"
    assert history[2]["changed_at"].startswith("2026-11-23T09:05")
    assert history[2]["changes"] == [{"path": "/story", "op": "changed"}]
    assert history[3]["changes"] == [{"path": "/contingency_plan/safety_plan", "op": "changed"}]


async def test_a_diff_between_versions_names_each_changed_path(care_plans: CarePlans) -> None:
    person_id = await _two_editors(care_plans)
    current = (await care_plans.plan(person_id)).json()
    goals = current["goals"]
    goals[0]["status"] = "achieved"
    r = await care_plans.patch(person_id, {"goals": goals, "review_date": "2027-01-15"}, '"2"')
    assert r.status_code == 200, r.text

    r = await care_plans.client.get(
        f"/api/v1/persons/{person_id}/care-plan/diff",
        params={"from": 2, "to": 3},
        headers=care_plans.social_worker(),
    )
    assert r.status_code == 200, r.text
    goal_id = goals[0]["id"]
    assert r.json()["changes"] == [
        {
            "path": f"/goals/{goal_id}/status",
            "op": "changed",
            "before": "in_progress",
            "after": "achieved",
        },
        {"path": "/review_date", "op": "changed", "before": "2027-02-01", "after": "2027-01-15"},
    ]
    assert "carethread.goal.achieved.v1" in await care_plans.event_types()

    old = await care_plans.client.get(
        f"/api/v1/persons/{person_id}/care-plan/history/2", headers=care_plans.gp()
    )
    assert old.status_code == 200
    assert old.json()["goals"][0]["status"] == "in_progress"
    assert old.json()["meta"]["version"] == 2
    missing = await care_plans.client.get(
        f"/api/v1/persons/{person_id}/care-plan/diff",
        params={"from": 2, "to": 9},
        headers=care_plans.gp(),
    )
    assert missing.status_code == 404


@pytest.fixture
async def pg_care_plans(postgres_url: str, auth: AuthSettings) -> AsyncIterator[CarePlans]:
    settings = CarePlansSettings(
        database_url=postgres_url,
        auth=auth,
        kafka=KafkaSettings(topic_prefix="test."),
        log_json=False,
        database_pool_size=20,
    )
    app = create_app(settings, broker=InMemoryBroker())
    fake = Clock()
    app.dependency_overrides[clock] = lambda: fake.now
    async with running(app) as client:
        yield CarePlans(client, auth, fake, settings, app)


@pytest.mark.postgres
async def test_concurrent_editors_on_postgresql_lose_no_update(pg_care_plans: CarePlans) -> None:
    """Twenty editors send a change based on the same version at once: exactly one is
    saved, every other gets 412, and the plan holds exactly the winner's change."""
    care_plans = pg_care_plans
    person_id = await _two_editors(care_plans)
    editors = 20

    async def edit(n: int) -> tuple[int, int]:
        headers = care_plans.gp(f"dr.{n}") if n % 2 else care_plans.social_worker(f"sw.{n}")
        r = await care_plans.patch(person_id, {"story": f"edit {n}"}, '"2"', headers)
        return n, r.status_code

    results = await asyncio.gather(*(edit(n) for n in range(editors)))
    statuses = sorted(code for _, code in results)
    assert statuses == [200] + [412] * (editors - 1), statuses
    (winner,) = [n for n, code in results if code == 200]
    plan = (await care_plans.plan(person_id)).json()
    assert plan["story"] == f"edit {winner}"
    assert plan["meta"]["version"] == 3
    history = (
        await care_plans.client.get(
            f"/api/v1/persons/{person_id}/care-plan/history", headers=care_plans.gp()
        )
    ).json()
    assert [v["version"] for v in history] == [1, 2, 3]

    # Then each loser, in turn, re-reads and saves: all twenty changes end up in history.
    async def retry_until_saved(n: int) -> None:
        headers = care_plans.gp(f"dr.{n}") if n % 2 else care_plans.social_worker(f"sw.{n}")
        for _ in range(100):
            tag = (await care_plans.plan(person_id, headers)).headers["ETag"]
            r = await care_plans.patch(person_id, {"strengths": [f"edit {n}"]}, tag, headers)
            if r.status_code == 200:
                return
            assert r.status_code == 412, r.text
        raise AssertionError(f"editor {n} never saved")

    await asyncio.gather(*(retry_until_saved(n) for n in range(editors) if n != winner))
    history = (
        await care_plans.client.get(
            f"/api/v1/persons/{person_id}/care-plan/history", headers=care_plans.gp()
        )
    ).json()
    assert [v["version"] for v in history] == list(range(1, 3 + editors))
    assert len({v["changed_by"] for v in history[3:]}) == editors - 1


async def test_a_retry_of_a_saved_change_succeeds_without_a_new_version(
    care_plans: CarePlans,
) -> None:
    """A client whose response was lost sends the same write again, with the old ETag: the
    change is already there, so it succeeds (RFC 9110, 13.1.1) and nothing is saved twice."""
    person_id = await _two_editors(care_plans)
    patch = {"story": "Rosa's own words, revised."}
    first = await care_plans.patch(person_id, patch, '"2"')
    assert (first.status_code, first.headers["ETag"]) == (200, '"3"')
    again = await care_plans.patch(person_id, patch, '"2"')
    assert (again.status_code, again.headers["ETag"]) == (200, '"3"')
    whole = {k: v for k, v in first.json().items() if k != "meta"}
    assert (await care_plans.put(person_id, whole, '"2"')).headers["ETag"] == '"3"'

    # Anything else based on version 2 is refused: it would undo what version 3 did.
    other = await care_plans.patch(person_id, {"story": "Something else."}, '"2"')
    assert other.status_code == 412
    broken = await care_plans.patch(person_id, {"goals": [{"description": ""}]}, '"2"')
    assert broken.status_code == 412  # stale first, whatever else is wrong
    history = (
        await care_plans.client.get(
            f"/api/v1/persons/{person_id}/care-plan/history", headers=care_plans.gp()
        )
    ).json()
    assert [v["version"] for v in history] == [1, 2, 3]


async def test_any_version_of_a_long_history_reads_back_as_it_was(care_plans: CarePlans) -> None:
    """Most versions are stored as patches on the one before, with a whole snapshot every
    25: every version still reads back exactly, and diffs span snapshots."""
    person_id = await _two_editors(care_plans)  # versions 1 and 2
    url = f"/api/v1/persons/{person_id}/care-plan"
    saved: dict[int, dict[str, Any]] = {}
    for n in range(3, 33):
        current = (await care_plans.plan(person_id)).json()
        actions = current["actions"]
        actions[n % 2]["status"] = "in_progress" if n % 3 else "planned"
        contacts = current["contacts"] if n != 20 else []  # a list that loses its item
        r = await care_plans.patch(
            person_id,
            {"story": f"story {n}", "actions": actions, "contacts": contacts},
            f'"{n - 1}"',
        )
        assert r.status_code == 200, r.text
        saved[n] = {k: v for k, v in r.json().items() if k != "meta"}

    engine = create_engine(care_plans.settings.database_url)
    async with session_factory(engine)() as s:
        whole = await s.scalars(
            select(PlanVersionRow.version)
            .where(PlanVersionRow.document.is_not(None))
            .order_by(PlanVersionRow.version)
        )
        assert list(whole) == [1, 26]
    await engine.dispose()

    for n in (3, 19, 20, 25, 26, 27, 32):
        r = await care_plans.client.get(f"{url}/history/{n}", headers=care_plans.gp())
        assert r.status_code == 200, r.text
        assert {k: v for k, v in r.json().items() if k != "meta"} == saved[n], n
    r = await care_plans.client.get(
        f"{url}/diff", params={"from": 19, "to": 30}, headers=care_plans.gp()
    )
    changes = {c["path"]: c for c in r.json()["changes"]}
    assert changes["/story"]["before"] == "story 19"
    assert changes["/story"]["after"] == "story 30"
    assert changes[f"/contacts/{saved[19]['contacts'][0]['id']}"]["op"] == "removed"


@pytest.mark.postgres
async def test_a_person_recorded_twice_at_once_is_recorded_once(pg_care_plans: CarePlans) -> None:
    care_plans = pg_care_plans
    body = {
        "nhs_number": care_plans.next_nhs_number(),
        "given_name": "Rosa",
        "family_name": "Synthetic",
    }

    async def record(n: int) -> int:
        r = await care_plans.client.post(
            "/api/v1/persons", json=body, headers=care_plans.gp(f"dr.{n}")
        )
        return r.status_code

    statuses = sorted(await asyncio.gather(*(record(n) for n in range(8))))
    assert statuses == [201] + [409] * 7, statuses


def _next_page(link: str) -> str:
    """The URL of a ``Link: <url>; rel="next"`` header."""
    assert link.endswith('rel="next"'), link
    return link.removeprefix("<").split(">;")[0]


async def test_a_long_history_is_read_a_page_at_a_time(care_plans: CarePlans) -> None:
    person = await care_plans.record_person()
    for version in range(1, 5):  # versions 2 to 5
        story = {"story": f"Chapter {version}"}
        r = await care_plans.patch(person["id"], story, f'"{version}"')
        assert r.status_code == 200, r.text
    url = f"/api/v1/persons/{person['id']}/care-plan/history"
    gp = care_plans.gp()

    first = await care_plans.client.get(url, params={"limit": 2}, headers=gp)
    assert [v["version"] for v in first.json()] == [1, 2]
    second = await care_plans.client.get(_next_page(first.headers["Link"]), headers=gp)
    assert [v["version"] for v in second.json()] == [3, 4]
    last = await care_plans.client.get(_next_page(second.headers["Link"]), headers=gp)
    assert [v["version"] for v in last.json()] == [5]
    assert "Link" not in last.headers
    whole = await care_plans.client.get(url, headers=gp)
    assert [v["version"] for v in whole.json()] == [1, 2, 3, 4, 5]
    assert "Link" not in whole.headers
