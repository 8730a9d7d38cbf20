"""Routing to a directory service: only to one the directory says can take the referral.

The front door learns the directory from its events (over the broker, as in production), so
these tests publish directory events and watch the front door's decisions change.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx

from carethread.events.directory import (
    DirectoryCapacityChangedV1,
    DirectoryServicePublishedV1,
    DirectoryServiceUpdatedV1,
    DirectoryServiceWithdrawnV1,
)
from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from referrals.settings import ReferralsSettings
from tests.referrals.directory import listing, publish
from tests.referrals.test_intake_api import referral
from tests.stack import wait_until


async def route(
    client: httpx.AsyncClient, auth: AuthSettings, service_id: uuid.UUID | str
) -> httpx.Response:
    r = await client.post(
        "/api/v1/referrals", json=referral(), headers=bearer(auth, roles=["referrer"])
    )
    assert r.status_code == 201, r.text
    return await client.post(
        f"/api/v1/referrals/{r.json()['referral_id']}/triage",
        json={"decision": "route", "destination": {"kind": "service", "id": str(service_id)}},
        headers=bearer(auth, roles=["triager"]),
    )


async def until_routable(
    client: httpx.AsyncClient, auth: AuthSettings, service_id: uuid.UUID, expected: int
) -> httpx.Response:
    """Route (to fresh referrals) until the front door's answer is ``expected``: the
    directory's event reaches it asynchronously, as in production."""
    last: list[httpx.Response] = []

    async def answered() -> bool:
        last.append(await route(client, auth, service_id))
        return last[-1].status_code == expected

    await wait_until(answered, timeout=15, what=f"a {expected} for service {service_id}")
    return last[-1]


async def test_a_referral_goes_only_to_a_service_that_can_take_it(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    memory_broker: InMemoryBroker,
    referrals_settings: ReferralsSettings,
) -> None:
    befriending = uuid.uuid4()
    r = await route(referrals_client, auth, befriending)
    assert r.status_code == 422  # the directory has not listed it (yet)
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["destination.id"]

    await publish(
        memory_broker,
        referrals_settings,
        DirectoryServicePublishedV1(**listing(befriending, "Befriending Islington")),
        befriending,
        1,
    )
    ok = await until_routable(referrals_client, auth, befriending, 200)
    destination = ok.json()["referral"]["destination"]
    # Named as the directory names it, whatever the triager typed.
    assert destination == {
        "kind": "service",
        "id": str(befriending),
        "name": "Befriending Islington",
    }

    full = DirectoryCapacityChangedV1(
        service_id=befriending,
        name="Befriending Islington",
        previous="accepting",
        capacity="full",
        changed_at=datetime.now(UTC),
    )
    await publish(memory_broker, referrals_settings, full, befriending, 2)
    refused = await until_routable(referrals_client, auth, befriending, 409)
    problem = refused.json()
    assert problem["type"].endswith("not-routable")
    assert "full" in problem["detail"]
    assert problem["capacity"] == "full"

    # An older change arriving late (a replay, a redelivery) does not reopen it.
    await publish(
        memory_broker,
        referrals_settings,
        DirectoryServiceUpdatedV1(**listing(befriending, "Befriending Islington")),
        befriending,
        1,
    )
    await publish(
        memory_broker,
        referrals_settings,
        DirectoryServiceUpdatedV1(**listing(befriending, "Befriending Islington & Camden")),
        befriending,
        3,
    )
    renamed = await until_routable(referrals_client, auth, befriending, 200)
    assert renamed.json()["referral"]["destination"]["name"] == "Befriending Islington & Camden"

    withdrawn = DirectoryServiceWithdrawnV1(
        service_id=befriending,
        name="Befriending Islington & Camden",
        reason="Funding ended",
        changed_at=datetime.now(UTC),
    )
    await publish(memory_broker, referrals_settings, withdrawn, befriending, 4)
    gone = await until_routable(referrals_client, auth, befriending, 409)
    assert "withdrawn" in gone.json()["detail"]


async def test_a_signpost_only_service_is_signposted_not_referred_to(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    memory_broker: InMemoryBroker,
    referrals_settings: ReferralsSettings,
) -> None:
    walking = uuid.uuid4()
    await publish(
        memory_broker,
        referrals_settings,
        DirectoryServicePublishedV1(
            **listing(walking, "Walking group, Finsbury Park", route="signpost_only")
        ),
        walking,
        1,
    )
    refused = await until_routable(referrals_client, auth, walking, 409)
    assert "signpost" in refused.json()["detail"]


async def test_a_destination_that_is_not_a_directory_id_is_422(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    r = await route(referrals_client, auth, "demo-social-prescribing")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["destination.id"]
