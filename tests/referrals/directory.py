"""Directory events for the front door's tests: the front door learns of directory services
only from the directory's events, so tests publish them on the (in-memory) broker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from carethread.db import create_engine, session_factory
from carethread.events import EventData, new_event
from carethread.events.directory import DirectoryServicePublishedV1
from carethread.messaging import InMemoryBroker, OutgoingMessage
from referrals.settings import ReferralsSettings
from referrals.store.tables import DirectoryServiceRow
from tests.stack import wait_until

ORG_ID = uuid.UUID("5b0c2d1e-93c0-4a51-9d2e-000000000001")
SOCIAL_PRESCRIBING = uuid.UUID("5b0c2d1e-93c0-4a51-9d2e-0000000000a1")


def listing(
    service_id: uuid.UUID, name: str, *, capacity: str = "accepting", route: str = "formal_referral"
) -> dict[str, Any]:
    return {
        "service_id": service_id,
        "organization_id": ORG_ID,
        "name": name,
        "organization_name": "Islington Befrienders (synthetic)",
        "status": "active",
        "capacity": capacity,
        "referral_route": route,
        "taxonomy_codes": ["isolation"],
        "boroughs": ["Islington"],
        "changed_at": datetime.now(UTC),
    }


async def publish(
    broker: InMemoryBroker,
    settings: ReferralsSettings,
    data: EventData,
    service_id: uuid.UUID,
    seq: int,
) -> None:
    event = new_event(data, subject=str(service_id), person_id=None, sequence=seq)
    message = OutgoingMessage(
        topic=settings.kafka.topic_prefix + data.topic,
        key=str(service_id),
        value=event.to_json_bytes(),
    )
    await broker.publisher().send_batch([message])


async def list_service(
    broker: InMemoryBroker,
    settings: ReferralsSettings,
    service_id: uuid.UUID = SOCIAL_PRESCRIBING,
    name: str = "Islington social prescribing",
) -> dict[str, str]:
    """Publish a listing and wait until the front door has it; returns a destination."""
    await publish(
        broker, settings, DirectoryServicePublishedV1(**listing(service_id, name)), service_id, 1
    )
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)

    async def known() -> bool:
        async with sessions() as s:
            return await s.get(DirectoryServiceRow, service_id) is not None

    try:
        await wait_until(known, timeout=15, what=f"the front door to hear of {name}")
    finally:
        await engine.dispose()
    return {"kind": "service", "id": str(service_id), "name": name}
