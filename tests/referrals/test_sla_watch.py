"""The SLA watch announces each referral that runs out of time before triage, once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from carethread.db import UnitOfWork, create_engine, session_factory
from carethread.db.tables import OutboxRow
from carethread.events.referrals import ReferralSlaBreachedV1
from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer, running
from referrals.app import create_app
from referrals.settings import ReferralsSettings
from referrals.sla_watch import publish_breaches
from tests.referrals.test_intake_api import referral
from tests.stack import wait_until

BREACHED = ReferralSlaBreachedV1.event_type


async def breach_events(settings: ReferralsSettings) -> list[dict[str, Any]]:
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as s:
        rows = (
            await s.scalars(
                select(OutboxRow)
                .where(OutboxRow.event_type == BREACHED)
                .order_by(OutboxRow.position)
            )
        ).all()
    await engine.dispose()
    return [json.loads(r.payload) for r in rows]


async def watch_at(settings: ReferralsSettings, now: datetime) -> int:
    """One round of the watch, with the clock at ``now``."""
    engine = create_engine(settings.database_url)
    async with UnitOfWork(session_factory(engine)) as uow:
        published = await publish_breaches(uow, now=now)
        await uow.commit()
    await engine.dispose()
    return published


async def refer(client: httpx.AsyncClient, auth: AuthSettings, urgency: str) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/referrals",
        json=referral(urgency=urgency),
        headers=bearer(auth, roles=["referrer"]),
    )
    assert r.status_code == 201, r.text
    read: dict[str, Any] = r.json()["referral"]
    return read


async def test_each_breach_is_announced_once_when_its_time_runs_out(
    referrals_client: httpx.AsyncClient, auth: AuthSettings, referrals_settings: ReferralsSettings
) -> None:
    emergency = await refer(referrals_client, auth, "emergency")
    routine = await refer(referrals_client, auth, "routine")
    decided_in_time = await refer(referrals_client, auth, "emergency")
    r = await referrals_client.post(
        f"/api/v1/referrals/{decided_in_time['id']}/triage",
        json={"decision": "signpost", "reason": "Signposted to the council's warm hubs."},
        headers=bearer(auth, roles=["triager"]),
    )
    assert r.status_code == 200, r.text
    received = datetime.fromisoformat(emergency["received_at"])

    assert await watch_at(referrals_settings, received + timedelta(hours=1)) == 0
    assert await watch_at(referrals_settings, received + timedelta(hours=3)) == 1
    assert await watch_at(referrals_settings, received + timedelta(hours=4)) == 0  # once only
    (event,) = await breach_events(referrals_settings)
    data = ReferralSlaBreachedV1.model_validate(event["data"])
    assert str(data.referral_id) == emergency["id"]
    assert data.urgency == "emergency"
    assert data.status == "received"
    assert data.breached_at == data.triage_due_at
    assert data.triage_due_at == datetime.fromisoformat(emergency["triage_due_at"])
    assert event["subject"] == emergency["id"]
    assert event["personid"] == emergency["person_id"]

    # Five working days later the routine one has breached too; the one triaged in time never.
    assert await watch_at(referrals_settings, received + timedelta(days=8)) == 1
    announced = [e["data"]["referral_id"] for e in await breach_events(referrals_settings)]
    assert announced == [emergency["id"], routine["id"]]


@pytest.fixture
async def hurried_client(
    referrals_settings: ReferralsSettings,
) -> AsyncIterator[tuple[httpx.AsyncClient, ReferralsSettings]]:
    """A front door whose emergency target is about a second, watched every 0.2 s."""
    settings = referrals_settings.model_copy(
        update={"sla_emergency_hours": 1 / 3600, "sla_watch_interval_s": 0.2}
    )
    async with running(create_app(settings, broker=InMemoryBroker())) as client:
        yield client, settings


async def test_the_service_watches_the_clock_by_itself(
    hurried_client: tuple[httpx.AsyncClient, ReferralsSettings], auth: AuthSettings
) -> None:
    client, settings = hurried_client
    emergency = await refer(client, auth, "emergency")

    async def announced() -> bool:
        return [e["data"]["referral_id"] for e in await breach_events(settings)] == [
            emergency["id"]
        ]

    await wait_until(announced, timeout=15, what="the SLA breach event")
    r = await client.get("/api/v1/referrals?breached=true", headers=bearer(auth, roles=["triager"]))
    assert [item["id"] for item in r.json()["items"]] == [emergency["id"]]
