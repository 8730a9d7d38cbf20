"""End to end: the MDT view follows all four producing services over one broker (in memory
and a real Tansu), on SQLite and PostgreSQL. The directory's part: a listing a curator
publishes reaches the view (its freshness moves), a referral routed to it shows the
service by name on the person's timeline, and renaming the listing renames it there."""

from __future__ import annotations

from typing import Any

import httpx

from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from tests.directory.support import curator, listing
from tests.stack import (
    NEIGHBOURHOOD,
    Brokers,
    DatabaseFactory,
    Stack,
    app_client,
    care_plans_app,
    directory_app,
    mdt_app,
    outcomes_app,
    referrals_app,
    wait_until,
)

SERVICES = ("directory", "referrals", "care_plans", "outcomes", "mdt")


async def timeline(mdt: httpx.AsyncClient, auth: AuthSettings, person: str, event: str) -> Any:
    """The person's timeline once the view has applied ``event`` (read-your-writes)."""
    r = await mdt.get(
        f"/api/v1/persons/{person}/timeline",
        params={"min_event": event, "wait_ms": 20_000},
        headers=bearer(auth, roles=["practitioner"]),  # the referrer's organisation
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["freshness"]["caught_up"] is True
    return body


def named_services(body: Any) -> list[str]:
    return [e["directory_service"]["name"] for e in body["entries"] if e["directory_service"]]


async def test_a_directory_listing_reaches_the_caseload_and_the_timeline(
    service_databases: DatabaseFactory, brokers: Brokers, auth: AuthSettings
) -> None:
    urls = {n: await service_databases(n) for n in SERVICES}
    async with (
        app_client(mdt_app(urls["mdt"], auth, brokers)) as mdt,
        app_client(directory_app(urls["directory"], auth, brokers)) as directory,
        app_client(care_plans_app(urls["care_plans"], auth, brokers)),
        app_client(outcomes_app(urls["outcomes"], auth, brokers)),
        app_client(referrals_app(urls["referrals"], auth, brokers)) as referrals,
    ):
        # A curator publishes a service; the view hears of it and says so.
        r = await directory.post(
            "/api/v1/services", json=listing("Holloway Walking Group"), headers=curator(auth)
        )
        assert r.status_code == 201, r.text
        service_id, published = r.json()["service"]["id"], r.json()["event_id"]
        r = await mdt.get(
            f"/api/v1/neighbourhoods/{NEIGHBOURHOOD}/caseload",
            params={"min_event": published, "wait_ms": 20_000},
            headers=bearer(auth, roles=["practitioner"], neighbourhoods=[NEIGHBOURHOOD]),
        )
        assert r.status_code == 200, r.text
        assert r.json()["freshness"]["caught_up"] is True
        assert r.json()["freshness"]["sources"]["directory"]["last_event_id"] == published

        # The front door routes a referral to it (once the front door has heard of it too).
        written = await Stack(auth=auth, referrals=referrals).refer(7)
        person = written["person_id"]
        routed: list[httpx.Response] = []

        async def route() -> bool:
            routed.append(
                await referrals.post(
                    f"/api/v1/referrals/{written['referral_id']}/triage",
                    json={
                        "decision": "route",
                        "destination": {"kind": "service", "id": service_id},
                    },
                    headers=bearer(auth, roles=["triager"], org="93C"),
                )
            )
            return routed[-1].status_code == 200

        await wait_until(route, what="the front door to route to the directory's service")
        triaged = routed[-1].json()["event_id"]
        body = await timeline(mdt, auth, person, triaged)
        assert named_services(body) == ["Holloway Walking Group"]
        assert {"referrals", "directory"} <= set(body["freshness"]["sources"])

        # Renamed in the directory: the timeline names it as the directory now does, and
        # the directory's freshness moves on.
        r = await directory.patch(
            f"/api/v1/services/{service_id}",
            json={"name": "Holloway Walking Group for Health"},
            headers=curator(auth),
        )
        assert r.status_code == 200, r.text
        renamed = r.json()["event_id"]
        body = await timeline(mdt, auth, person, renamed)
        assert named_services(body) == ["Holloway Walking Group for Health"]
        assert body["freshness"]["sources"]["directory"]["last_event_id"] == renamed
        assert renamed != published
