"""A VCSE organisation proposes changes to its own listing; a curator approves (applied,
published, in the history) or rejects (nothing changes)."""

from __future__ import annotations

import httpx

from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from directory.settings import DirectorySettings
from tests.directory.support import curator, listing, outbox

CHARITY = "1099999"


def vcse(auth: AuthSettings, org: str = CHARITY) -> dict[str, str]:
    return bearer(auth, roles=["vcse"], org=org, sub="volunteer.coordinator")


async def test_a_proposal_waits_for_a_curator_and_is_applied_when_approved(
    directory_client: httpx.AsyncClient,
    auth: AuthSettings,
    directory_settings: DirectorySettings,
) -> None:
    organization = {
        "name": "Islington Friends (synthetic)",
        "identifiers": [{"identifier_type": "Charity number", "identifier": CHARITY}],
    }
    r = await directory_client.post(
        "/api/v1/services", json=listing(organization=organization), headers=curator(auth)
    )
    service_id = r.json()["service"]["id"]
    changes = {"capacity": "waiting_list", "description": "Now with a Saturday visit too."}

    stranger = await directory_client.post(
        f"/api/v1/services/{service_id}/proposals",
        json={"changes": changes},
        headers=vcse(auth, org="1011111"),
    )
    assert stranger.status_code == 403
    invalid = await directory_client.post(
        f"/api/v1/services/{service_id}/proposals",
        json={"changes": {"taxonomy": ["astrology"]}},
        headers=vcse(auth),
    )
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "taxonomy[0]"

    r = await directory_client.post(
        f"/api/v1/services/{service_id}/proposals",
        json={"changes": changes, "note": "We have more volunteers"},
        headers=vcse(auth),
    )
    assert r.status_code == 201, r.text
    proposal = r.json()
    assert (proposal["status"], proposal["base_version"]) == ("pending", 1)
    unchanged = await directory_client.get(f"/api/v1/services/{service_id}")
    assert unchanged.json()["capacity"] == "accepting"  # nothing until a curator says so
    assert len(await outbox(directory_settings.database_url)) == 1

    pending = await directory_client.get("/api/v1/proposals", headers=curator(auth))
    assert [p["id"] for p in pending.json()["items"]] == [proposal["id"]]
    not_a_curator = await directory_client.post(
        f"/api/v1/proposals/{proposal['id']}/approve", headers=vcse(auth)
    )
    assert not_a_curator.status_code == 403

    approved = await directory_client.post(
        f"/api/v1/proposals/{proposal['id']}/approve",
        json={"note": "Checked with the coordinator"},
        headers=curator(auth, sub="curator.two"),
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    service = (await directory_client.get(f"/api/v1/services/{service_id}")).json()
    assert (service["capacity"], service["version"]) == ("waiting_list", 2)
    assert service["description"] == "Now with a Saturday visit too."
    history = await directory_client.get(
        f"/api/v1/services/{service_id}/history", headers=curator(auth)
    )
    last = history.json()[-1]
    assert (last["actor"], last["change"]) == ("curator.two", "updated")
    assert proposal["id"] in last["reason"]
    assert "volunteer.coordinator" in last["reason"]
    events = await outbox(directory_settings.database_url)
    assert [e["type"].split(".")[2] for e in events] == ["published", "updated"]

    again = await directory_client.post(
        f"/api/v1/proposals/{proposal['id']}/reject", headers=curator(auth)
    )
    assert again.status_code == 409


async def test_a_rejected_proposal_changes_nothing(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    r = await directory_client.post("/api/v1/services", json=listing(), headers=curator(auth))
    service = r.json()["service"]
    # The organisation's own id speaks for it too.
    org = service["organization"]["id"]
    r = await directory_client.post(
        f"/api/v1/services/{service['id']}/proposals",
        json={"changes": {"name": "Best Befriending In London"}},
        headers=vcse(auth, org=org),
    )
    assert r.status_code == 201, r.text
    rejected = await directory_client.post(
        f"/api/v1/proposals/{r.json()['id']}/reject",
        json={"note": "Names describe the service"},
        headers=curator(auth),
    )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "Names describe the service"
    after = await directory_client.get(f"/api/v1/services/{service['id']}")
    assert (after.json()["name"], after.json()["version"]) == ("Archway Befriending", 1)
