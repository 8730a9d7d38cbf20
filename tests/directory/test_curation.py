"""Curators create, edit, withdraw and verify listings; each write publishes its event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from directory.api.deps import clock
from directory.settings import DirectorySettings
from tests.directory.support import curator, listing, outbox

PUBLISHED = "carethread.directory-service.published.v1"
UPDATED = "carethread.directory-service.updated.v1"
WITHDRAWN = "carethread.directory-service.withdrawn.v1"
CAPACITY = "carethread.directory-service.capacity-changed.v1"


async def create(client: httpx.AsyncClient, auth: AuthSettings, **overrides: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/services", json=listing(**overrides), headers=curator(auth))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_created_listing_is_readable_and_published_in_the_same_transaction(
    directory_client: httpx.AsyncClient,
    auth: AuthSettings,
    directory_settings: DirectorySettings,
) -> None:
    receipt = await create(directory_client, auth)
    service = receipt["service"]
    assert receipt["change"] == "published"
    assert service["version"] == 1
    assert service["status"] == "active"
    assert service["taxonomy"] == ["befriending"]
    assert service["takes_direct_referrals"] is True
    assert service["stale"] is False
    (location,) = service["locations"]
    assert location["borough"] == "Islington"
    assert location["latitude"] == pytest.approx(51.56, abs=0.02)  # from the postcode

    r = await directory_client.get(f"/api/v1/services/{service['id']}")  # no token: public
    assert r.status_code == 200
    assert r.json()["name"] == "Archway Befriending"
    assert r.headers["etag"] == '"1"'

    (event,) = await outbox(directory_settings.database_url)
    assert event["type"] == PUBLISHED
    assert event["id"] == receipt["event_id"]
    assert event["_key"] == service["id"]
    assert event["subject"] == service["id"]
    assert event["sequence"] == 1
    data = event["data"]
    assert data["capacity"] == "accepting"
    assert data["referral_route"] == "formal_referral"
    assert data["taxonomy_codes"] == ["befriending"]
    assert data["boroughs"] == ["Islington"]
    assert data["organization_name"] == "Islington Friends (synthetic)"


async def test_edits_bump_the_version_publish_updates_and_keep_who_changed_what(
    directory_client: httpx.AsyncClient,
    auth: AuthSettings,
    directory_settings: DirectorySettings,
) -> None:
    service_id = (await create(directory_client, auth))["service"]["id"]
    r = await directory_client.patch(
        f"/api/v1/services/{service_id}",
        json={"name": "Archway Befriending Scheme", "free": False, "fees": "£2 a visit"},
        headers=curator(auth, sub="curator.two") | {"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["change"] == "updated"
    assert r.json()["service"]["version"] == 2
    assert r.json()["service"]["free"] is False

    stale = await directory_client.patch(
        f"/api/v1/services/{service_id}",
        json={"name": "Another name"},
        headers=curator(auth) | {"If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"

    same = await directory_client.patch(
        f"/api/v1/services/{service_id}",
        json={"name": "Archway Befriending Scheme"},
        headers=curator(auth),
    )
    assert same.status_code == 200
    assert same.json()["change"] is None  # nothing moved: no version, no event
    assert same.json()["service"]["version"] == 2

    history = await directory_client.get(
        f"/api/v1/services/{service_id}/history", headers=curator(auth)
    )
    assert history.status_code == 200
    entries = history.json()
    assert [(e["version"], e["change"], e["actor"]) for e in entries] == [
        (1, "published", "curator.one"),
        (2, "updated", "curator.two"),
    ]
    assert entries[1]["changes"]["name"] == ["Archway Befriending", "Archway Befriending Scheme"]
    assert entries[1]["changes"]["free"] == [True, False]

    events = await outbox(directory_settings.database_url)
    assert [(e["type"], e["sequence"]) for e in events] == [(PUBLISHED, 1), (UPDATED, 2)]
    assert events[1]["data"]["name"] == "Archway Befriending Scheme"


async def test_capacity_changes_publish_their_own_event_with_the_previous_state(
    directory_client: httpx.AsyncClient,
    auth: AuthSettings,
    directory_settings: DirectorySettings,
) -> None:
    service_id = (await create(directory_client, auth))["service"]["id"]
    r = await directory_client.post(
        f"/api/v1/services/{service_id}/capacity",
        json={"capacity": "full"},
        headers=curator(auth),
    )
    assert r.status_code == 200, r.text
    assert r.json()["service"]["capacity"] == "full"
    # A PATCH that only moves capacity is a capacity change too.
    r = await directory_client.patch(
        f"/api/v1/services/{service_id}", json={"capacity": "waiting_list"}, headers=curator(auth)
    )
    assert r.json()["change"] == "capacity_changed"
    events = await outbox(directory_settings.database_url)
    assert [(e["type"], e["sequence"]) for e in events] == [
        (PUBLISHED, 1),
        (CAPACITY, 2),
        (CAPACITY, 3),
    ]
    assert events[1]["data"] | {"changed_at": None} == {
        "service_id": service_id,
        "name": "Archway Befriending",
        "previous": "accepting",
        "capacity": "full",
        "changed_at": None,
    }
    assert events[2]["data"]["previous"] == "full"


async def test_a_withdrawn_service_cannot_be_edited_until_reinstated(
    directory_client: httpx.AsyncClient,
    auth: AuthSettings,
    directory_settings: DirectorySettings,
) -> None:
    service_id = (await create(directory_client, auth))["service"]["id"]
    r = await directory_client.post(
        f"/api/v1/services/{service_id}/withdraw",
        json={"reason": "Funding ended"},
        headers=curator(auth),
    )
    assert r.status_code == 200, r.text
    assert r.json()["service"]["status"] == "withdrawn"
    again = await directory_client.post(
        f"/api/v1/services/{service_id}/withdraw", json={"reason": "x"}, headers=curator(auth)
    )
    assert again.status_code == 409
    edit = await directory_client.patch(
        f"/api/v1/services/{service_id}", json={"name": "New"}, headers=curator(auth)
    )
    assert edit.status_code == 409
    assert "withdrawn" in edit.json()["detail"]
    back = await directory_client.post(
        f"/api/v1/services/{service_id}/reinstate", headers=curator(auth)
    )
    assert back.status_code == 200
    assert back.json()["service"]["status"] == "active"
    events = await outbox(directory_settings.database_url)
    assert [(e["type"], e["sequence"]) for e in events] == [
        (PUBLISHED, 1),
        (WITHDRAWN, 2),
        (PUBLISHED, 3),
    ]
    assert events[1]["data"]["reason"] == "Funding ended"


async def test_only_curators_write(directory_client: httpx.AsyncClient, auth: AuthSettings) -> None:
    anonymous = await directory_client.post("/api/v1/services", json=listing())
    assert anonymous.status_code == 401
    practitioner = await directory_client.post(
        "/api/v1/services", json=listing(), headers=bearer(auth, roles=["practitioner"])
    )
    assert practitioner.status_code == 403
    assert practitioner.headers["content-type"] == "application/problem+json"


async def test_bad_listings_are_refused_with_every_field_named_and_nothing_written(
    directory_client: httpx.AsyncClient,
    auth: AuthSettings,
    directory_settings: DirectorySettings,
) -> None:
    body = listing(
        taxonomy=["befriending", "astrology"],
        boroughs=["Islington", "Atlantis"],
        locations=[{"name": "Nowhere", "postcode": "ZZ9 9ZZ"}],
    )
    r = await directory_client.post("/api/v1/services", json=body, headers=curator(auth))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(fields) == {"taxonomy[1]", "boroughs[1]", "locations[0].postcode"}
    assert "astrology" in fields["taxonomy[1]"]
    assert "unknown postcode ZZ9 9ZZ" in fields["locations[0].postcode"]

    ages = await directory_client.post(
        "/api/v1/services",
        json=listing(minimum_age=70, maximum_age=20, capacity="overflowing"),
        headers=curator(auth),
    )
    assert ages.status_code == 422
    assert {e["field"] for e in ages.json()["errors"]} >= {"capacity"}
    assert await outbox(directory_settings.database_url) == []


async def test_verification_clears_staleness_and_the_stale_list(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    app: FastAPI = directory_client._transport.app  # type: ignore[attr-defined]
    service_id = (await create(directory_client, auth))["service"]["id"]
    later = datetime.now(UTC) + timedelta(days=200)
    app.dependency_overrides[clock] = lambda: later
    try:
        read = await directory_client.get(f"/api/v1/services/{service_id}")
        assert read.json()["stale"] is True
        stale = await directory_client.get("/api/v1/services/stale", headers=curator(auth))
        assert stale.status_code == 200
        assert [s["id"] for s in stale.json()["items"]] == [service_id]

        r = await directory_client.post(
            f"/api/v1/services/{service_id}/verify",
            json={"note": "Phoned the coordinator"},
            headers=curator(auth),
        )
        assert r.status_code == 200
        assert r.json()["service"]["stale"] is False
        assert r.json()["service"]["version"] == 1  # verifying is not an edit
        stale = await directory_client.get("/api/v1/services/stale", headers=curator(auth))
        assert stale.json()["items"] == []
    finally:
        app.dependency_overrides.clear()


async def test_an_unknown_service_is_a_404_problem(directory_client: httpx.AsyncClient) -> None:
    r = await directory_client.get("/api/v1/services/7d1f6c1e-0000-4000-8000-000000000000")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
