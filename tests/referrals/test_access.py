"""Who sees which referrals: the borough's front door, the referrer, the person's GP practice,
the receiving team; and every read and write is audited, refused ones too."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from carethread.db import create_engine, session_factory
from carethread.db.tables import AuditRow
from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from referrals.settings import ReferralsSettings
from tests.referrals.directory import list_service
from tests.referrals.test_intake_api import PERSON, referral

# F83004 (N7 9DP) is in Islington; F83058 is in Camden (NW1); Y03070 is a Haringey practice.
ISLINGTON = {**PERSON, "nhs_number": None, "given_name": "Iris"}
CAMDEN = {
    "given_name": "Cam",
    "family_name": "Synthetic",
    "birth_date": "1960-01-01",
    "postcode": "NW1 0PE",
}
REFERRER = "Y03070"  # a practice that refers people it does not register


async def refer(client: httpx.AsyncClient, auth: AuthSettings, person: dict[str, Any]) -> str:
    r = await client.post(
        "/api/v1/referrals",
        json=referral(person=person, referrer={"name": "Dr Ref", "org": REFERRER}),
        headers=bearer(auth, roles=["referrer"], org=REFERRER),
    )
    assert r.status_code == 201, r.text
    assert r.json()["referral"]["borough"] == person_borough(person)
    referral_id: str = r.json()["referral_id"]
    return referral_id


def person_borough(person: dict[str, Any]) -> str:
    return "Islington" if person is ISLINGTON else "Camden"


async def queue_ids(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    r = await client.get("/api/v1/referrals", headers=headers)
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


async def can_read(client: httpx.AsyncClient, referral_id: str, headers: dict[str, str]) -> bool:
    r = await client.get(f"/api/v1/referrals/{referral_id}", headers=headers)
    assert r.status_code in (200, 403), r.text
    history = await client.get(f"/api/v1/referrals/{referral_id}/history", headers=headers)
    task = await client.get(
        "/fhir/Task", params={"focus": f"ServiceRequest/{referral_id}"}, headers=headers
    )
    # The JSON read, the status history and the FHIR Task all follow the same rule.
    assert history.status_code == r.status_code
    assert (task.json().get("total", 0) == 1) == (r.status_code == 200)
    return r.status_code == 200


async def test_a_front_door_sees_and_triages_its_own_borough_only(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    islington = await refer(referrals_client, auth, ISLINGTON)
    camden = await refer(referrals_client, auth, CAMDEN)
    islington_door = bearer(auth, roles=["triager"], org="93C", boroughs=["Islington"])
    ics_wide = bearer(auth, roles=["triager"], org="93C")

    assert await queue_ids(referrals_client, islington_door) == {islington}
    assert await queue_ids(referrals_client, ics_wide) == {islington, camden}
    assert await can_read(referrals_client, islington, islington_door)
    assert not await can_read(referrals_client, camden, islington_door)

    claim = await referrals_client.post(f"/api/v1/referrals/{camden}/claim", headers=islington_door)
    assert claim.status_code == 403
    decline = await referrals_client.post(
        f"/api/v1/referrals/{islington}/triage",
        json={"decision": "decline", "reason": "Already known to the team"},
        headers=islington_door,
    )
    assert decline.status_code == 200, decline.text


async def test_the_referrer_and_the_persons_gp_see_what_happened(
    referrals_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    islington = await refer(referrals_client, auth, ISLINGTON)  # registered at F83004
    camden = await refer(referrals_client, auth, CAMDEN)  # no GP
    referrer = bearer(auth, roles=["referrer"], org=REFERRER)
    gp = bearer(auth, roles=["referrer"], org="F83004")
    stranger = bearer(auth, roles=["referrer"], org="F83058")

    assert await queue_ids(referrals_client, referrer) == {islington, camden}
    assert await queue_ids(referrals_client, gp) == {islington}
    assert await queue_ids(referrals_client, stranger) == set()
    assert await can_read(referrals_client, islington, gp)
    assert not await can_read(referrals_client, camden, gp)
    assert not await can_read(referrals_client, islington, stranger)


async def test_the_receiving_team_sees_and_works_what_was_routed_to_it(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    memory_broker: InMemoryBroker,
    referrals_settings: ReferralsSettings,
) -> None:
    service = await list_service(memory_broker, referrals_settings)
    routed = await refer(referrals_client, auth, ISLINGTON)
    accepted = await refer(referrals_client, auth, CAMDEN)
    door = bearer(auth, roles=["triager"], org="93C")
    r = await referrals_client.post(
        f"/api/v1/referrals/{routed}/triage",
        json={"decision": "route", "destination": service},
        headers=door,
    )
    assert r.status_code == 200, r.text
    mdt = {"kind": "neighbourhood_mdt", "id": "U83457"}
    r = await referrals_client.post(
        f"/api/v1/referrals/{accepted}/triage",
        json={"decision": "accept", "destination": mdt},
        headers=door,
    )
    assert r.status_code == 200, r.text

    link_worker = bearer(auth, roles=["practitioner"], org="VCSE1", teams=[service["id"]])
    nurse = bearer(auth, roles=["practitioner"], org="RKE", neighbourhoods=["U83457"])
    elsewhere = bearer(auth, roles=["practitioner"], org="RKE", neighbourhoods=["U02795"])
    assert await queue_ids(referrals_client, link_worker) == {routed}
    assert await queue_ids(referrals_client, nurse) == {accepted}
    assert await queue_ids(referrals_client, elsewhere) == set()

    r = await referrals_client.post(f"/api/v1/referrals/{routed}/start", headers=link_worker)
    assert r.status_code == 200, r.text
    r = await referrals_client.post(f"/api/v1/referrals/{accepted}/start", headers=elsewhere)
    assert r.status_code == 403
    r = await referrals_client.post(f"/api/v1/referrals/{accepted}/start", headers=nurse)
    assert r.status_code == 200, r.text
    # A receiving team does not triage.
    r = await referrals_client.post(f"/api/v1/referrals/{routed}/unclaim", headers=link_worker)
    assert r.status_code == 403


@pytest.mark.parametrize("path", ["", "/history"])
async def test_every_read_is_audited_with_its_outcome(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    referrals_settings: ReferralsSettings,
    path: str,
) -> None:
    islington = await refer(referrals_client, auth, ISLINGTON)
    gp = bearer(auth, roles=["referrer"], org="F83004", sub="dr.gp")
    stranger = bearer(auth, roles=["referrer"], org="F83058", sub="dr.stranger")
    assert (
        await referrals_client.get(f"/api/v1/referrals/{islington}{path}", headers=gp)
    ).is_success
    refused = await referrals_client.get(f"/api/v1/referrals/{islington}{path}", headers=stranger)
    assert refused.status_code == 403
    engine = create_engine(referrals_settings.database_url)
    async with session_factory(engine)() as s:
        audit = (await s.scalars(select(AuditRow).where(AuditRow.action == "read"))).all()
    await engine.dispose()
    assert sorted((a.actor, a.outcome, a.resource_id) for a in audit) == [
        ("dr.gp", "success", islington),
        ("dr.stranger", "denied", islington),
    ]
