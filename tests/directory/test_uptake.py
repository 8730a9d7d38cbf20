"""Uptake per service, counted from the front door's events: referrals routed to a listing,
and those the service then started; each counted once however often it is delivered."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx

from carethread.events import CloudEvent, new_event
from carethread.events.referrals import Destination, ReferralStatusChangedV1, ReferralTriagedV1
from carethread.events.topics import REFERRALS
from carethread.messaging import InMemoryBroker
from carethread.messaging.broker import OutgoingMessage
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from tests.directory.support import curator, listing

PERSON = person_id_for_nhs_number(next(synthetic_nhs_numbers(start=777)))
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def triaged(referral: uuid.UUID, destination: Destination | None, decision: str) -> CloudEvent:
    data = ReferralTriagedV1(
        referral_id=referral,
        person_id=PERSON,
        decision=decision,
        status="routed" if decision == "route" else "signposted",
        destination=destination,
        reason=None if destination else "Signposted to a drop-in",
        decided_by="triager",
        decided_by_org="93C",
        triaged_at=NOW,
        breached_sla=False,
    )
    return new_event(data, subject=str(referral), person_id=PERSON, sequence=2)


def started(referral: uuid.UUID) -> CloudEvent:
    data = ReferralStatusChangedV1(
        referral_id=referral,
        person_id=PERSON,
        action="start",
        from_status="routed",
        status="in_progress",
        changed_by="worker",
        changed_at=NOW,
    )
    return new_event(data, subject=str(referral), person_id=PERSON, sequence=3)


async def deliver(broker: InMemoryBroker, *events: CloudEvent) -> None:
    await broker.append(
        [
            OutgoingMessage(
                topic=f"test.{REFERRALS}",
                key=str(PERSON),
                value=e.to_json_bytes(),
                headers=(("ce_type", e.type.encode()), ("ce_id", str(e.id).encode())),
            )
            for e in events
        ]
    )


async def all_handled(broker: InMemoryBroker) -> None:
    """Wait until the directory's consumer has committed every delivered message."""
    topic = f"test.{REFERRALS}"
    async with asyncio.timeout(20):
        while True:
            delivered = sum(len(p) for p in broker.topic_log(topic))
            committed = sum(broker.committed("test.carethread.directory", topic).values())
            if delivered and committed >= delivered:
                return
            await asyncio.sleep(0.05)


async def test_routed_and_started_referrals_count_once_per_service(
    directory_client: httpx.AsyncClient, auth: AuthSettings, memory_broker: InMemoryBroker
) -> None:
    r = await directory_client.post("/api/v1/services", json=listing(), headers=curator(auth))
    service_id = r.json()["service"]["id"]
    to_service = Destination(kind="service", id=service_id, name="Archway Befriending")
    first, second, elsewhere = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    routed = triaged(first, to_service, "route")
    await deliver(
        memory_broker,
        routed,
        routed,  # delivered twice: counted once
        triaged(second, to_service, "route"),
        triaged(elsewhere, Destination(kind="service", id="not-a-listing"), "route"),
        triaged(uuid.uuid4(), None, "signpost"),
        started(first),
        started(first),
        started(elsewhere),
    )
    await all_handled(memory_broker)
    read = await directory_client.get(f"/api/v1/services/{service_id}")
    assert read.json()["uptake"] == {
        "routed": 2,
        "accepted": 1,
        "last_referral_at": "2026-11-30T10:00:00Z",
    }

    r = await directory_client.get(
        "/api/v1/uptake", headers=bearer(auth, roles=["analyst"]), params={"borough": "Islington"}
    )
    assert r.status_code == 200, r.text
    (row,) = r.json()["items"]
    assert (row["service_id"], row["routed"], row["accepted"]) == (service_id, 2, 1)
    assert row["organization_name"] == "Islington Friends (synthetic)"
    denied = await directory_client.get("/api/v1/uptake", headers=bearer(auth, roles=["referrer"]))
    assert denied.status_code == 403
