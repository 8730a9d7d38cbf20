"""Tell my story once: at the door the triager sees who is already involved with the person —
their care team, as the care_plans service announces it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from carethread.events.care_plans import CareTeamMemberJoinedV1, CareTeamMemberLeftV1
from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer
from referrals.settings import ReferralsSettings
from tests.referrals.directory import publish
from tests.referrals.test_intake_api import referral
from tests.stack import wait_until

PLAN = uuid.uuid4()


def membership(person_id: str, member: uuid.UUID, version: int, **more: Any) -> dict[str, Any]:
    return {
        "plan_id": PLAN,
        "person_id": uuid.UUID(person_id),
        "version": version,
        "changed_at": datetime.now(UTC),
        "member_id": member,
        **more,
    }


async def test_the_triager_sees_the_persons_care_team(
    referrals_client: httpx.AsyncClient,
    auth: AuthSettings,
    memory_broker: InMemoryBroker,
    referrals_settings: ReferralsSettings,
) -> None:
    r = await referrals_client.post(
        "/api/v1/referrals", json=referral(), headers=bearer(auth, roles=["referrer"])
    )
    assert r.status_code == 201, r.text
    referral_id, person_id = r.json()["referral_id"], r.json()["person_id"]
    nurse, social_worker = uuid.uuid4(), uuid.uuid4()

    async def team() -> list[dict[str, Any]]:
        r = await referrals_client.get(
            f"/api/v1/referrals/{referral_id}", headers=bearer(auth, roles=["triager"])
        )
        assert r.status_code == 200, r.text
        members: list[dict[str, Any]] = r.json()["involvement"]
        return members

    assert await team() == []
    key = uuid.UUID(person_id)
    joined = CareTeamMemberJoinedV1(
        **membership(person_id, nurse, 2, organisation="RKE", team="District nursing", role="nurse")
    )
    await publish(memory_broker, referrals_settings, joined, key, 2)
    joined_too = CareTeamMemberJoinedV1(
        **membership(
            person_id,
            social_worker,
            3,
            organisation="LBI",
            team="Adult social care",
            role="social worker",
            key_worker=True,
        )
    )
    await publish(memory_broker, referrals_settings, joined_too, key, 3)

    async def both_known() -> bool:
        return len(await team()) == 2

    await wait_until(both_known, what="the care team at the door")
    members = await team()
    assert [(m["organisation"], m["team"], m["key_worker"]) for m in members] == [
        ("LBI", "Adult social care", True),  # the key worker first
        ("RKE", "District nursing", False),
    ]

    left = CareTeamMemberLeftV1(**membership(person_id, nurse, 4, organisation="RKE"))
    await publish(memory_broker, referrals_settings, left, key, 4)
    # A late, older "joined" (a redelivery) must not bring the nurse back.
    await publish(memory_broker, referrals_settings, joined, key, 2)

    # ... and, the events of one person being in order, once a later change has arrived:
    promoted = CareTeamMemberJoinedV1(
        **membership(
            person_id,
            social_worker,
            5,
            organisation="LBI",
            team="Adult social care",
            role="senior social worker",
            key_worker=True,
        )
    )
    await publish(memory_broker, referrals_settings, promoted, key, 5)

    async def settled() -> bool:
        return [m["role"] for m in await team()] == ["senior social worker"]

    await wait_until(settled, what="the later change, with the nurse gone")
