"""The demo data `make run` loads: every state of the lifecycle, breaches, people with no NHS
number, routes to the directory's services — and loaded once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer, running
from referrals import demo
from referrals.app import create_app
from referrals.domain.lifecycle import Status
from referrals.settings import ReferralsSettings
from tests.referrals.directory import list_service


async def all_referrals(client: httpx.AsyncClient, auth: AuthSettings) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        r = await client.get(
            "/api/v1/referrals",
            params={"limit": 500, "offset": len(items)},
            headers=bearer(auth, roles=["admin"]),
        )
        assert r.status_code == 200, r.text
        page = r.json()["items"]
        items += page
        if not page:
            return items


@pytest.fixture
def demo_settings(referrals_settings: ReferralsSettings) -> ReferralsSettings:
    return referrals_settings.model_copy(update={"load_demo_data": True})


async def test_without_a_directory_the_demo_still_covers_the_lifecycle(
    demo_settings: ReferralsSettings, auth: AuthSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "DIRECTORY_WAIT_SECONDS", 0.1)
    async with running(create_app(demo_settings, broker=InMemoryBroker())) as client:
        items = await all_referrals(client, auth)
    assert len(items) == demo.DEMO_REFERRALS
    statuses = Counter(i["status"] for i in items)
    assert set(statuses) == set(Status) - {Status.ROUTED}  # nowhere to route to
    assert any(i["breached_sla"] for i in items)
    assert any(i["person"]["nhs_number"] is None for i in items)
    assert {i["urgency"] for i in items} == {"emergency", "urgent", "routine"}
    assert len({i["source"] for i in items}) == 7
    assert len({i["borough"] for i in items}) == 5


async def test_the_demo_routes_to_the_directorys_services_and_loads_once(
    demo_settings: ReferralsSettings, auth: AuthSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "MIN_DIRECTORY_SERVICES", 1)
    broker = InMemoryBroker()
    # The directory's listing is on the bus before the front door starts, as after a restart.
    listed = await list_service_before_start(broker, demo_settings)
    async with running(create_app(demo_settings, broker=broker)) as client:
        items = await all_referrals(client, auth)
    routed = [i for i in items if i["destination"] and i["destination"]["kind"] == "service"]
    assert routed
    assert {i["destination"]["id"] for i in routed} == {listed}
    assert {i["status"] for i in items} == {s.value for s in Status}

    async with running(create_app(demo_settings, broker=broker)) as client:
        assert len(await all_referrals(client, auth)) == demo.DEMO_REFERRALS  # not twice


async def list_service_before_start(broker: InMemoryBroker, settings: ReferralsSettings) -> str:
    """List a service while a front door without demo data runs, so its copy has it."""
    quiet = settings.model_copy(update={"load_demo_data": False})
    async with running(create_app(quiet, broker=broker)):
        destination = await list_service(broker, quiet)
    return destination["id"]
