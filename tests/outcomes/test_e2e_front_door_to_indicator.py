"""End to end over a broker (in memory and a real Tansu) on SQLite and PostgreSQL:
referrals received and triaged at the front door, routed to a VCSE service and started;
wellbeing recorded before and after; the indicator moves, broken down by IMD quintile."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from carethread.events import new_event
from carethread.events.directory import DirectoryServicePublishedV1
from carethread.messaging import OutgoingMessage
from carethread.reference import load_geography
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import bearer
from outcomes.app import create_app
from outcomes.settings import OutcomesSettings
from tests.stack import (
    Brokers,
    DatabaseFactory,
    app_client,
    referral_body,
    referrals_app,
    wait_until,
)

pytestmark = pytest.mark.e2e

SERVICE_ID = uuid.UUID("5b0c2d1e-93c0-4a51-9d2e-0000000000e2")
WELLBEING = "/api/v1/indicators/wellbeing-improved-after-social-prescribing"
UPTAKE = "/api/v1/indicators/social-prescription-uptake"
BEFORE, BETTER, SAME = [2, 3, 3, 3, 3, 3, 3], [4, 3, 4, 4, 3, 4, 3], [3, 3, 3, 3, 3, 3, 3]


def postcode_in_quintile(quintile: int) -> str:
    geography = load_geography()
    for code in sorted(geography.postcodes):
        if geography.imd_quintile_for(code) == quintile:
            return code
    raise AssertionError(f"no NCL postcode in IMD quintile {quintile}")


async def list_vcse_service(brokers: Brokers, prefix: str) -> None:
    """The directory announces a VCSE service (the front door routes only to known ones)."""
    data = DirectoryServicePublishedV1(
        service_id=SERVICE_ID,
        organization_id=uuid.uuid4(),
        name="Befriending Islington (synthetic)",
        organization_name="Islington Befrienders (synthetic)",
        status="active",
        capacity="accepting",
        referral_route="formal_referral",
        taxonomy_codes=["isolation"],
        boroughs=["Islington"],
        changed_at=datetime.now(UTC),
    )
    event = new_event(data, subject=str(SERVICE_ID), person_id=None, sequence=1)
    publisher = brokers.for_app().publisher()
    await publisher.start()
    try:
        topic = prefix + data.topic
        await publisher.ensure_topics([topic])
        await publisher.send_batch(
            [OutgoingMessage(topic=topic, key=str(SERVICE_ID), value=event.to_json_bytes())]
        )
    finally:
        await publisher.stop()


def outcomes_settings(
    url: str, auth: AuthSettings, kafka: KafkaSettings | None
) -> OutcomesSettings:
    return OutcomesSettings(
        database_url=url,
        auth=auth,
        kafka=kafka or KafkaSettings(topic_prefix="mem."),
        log_json=False,
        relay_poll_interval_ms=50,
        # Exact figures, to see the few synthetic people move (published output rounds).
        suppress_up_to=0,
        round_to=1,
    )


async def routed_and_started(
    referrals: httpx.AsyncClient, auth: AuthSettings, n: int, postcode: str
) -> dict[str, Any]:
    body = referral_body(n)
    body["person"]["postcode"] = postcode  # type: ignore[index]
    r = await referrals.post(
        "/api/v1/referrals", json=body, headers=bearer(auth, roles=["referrer"])
    )
    assert r.status_code == 201, r.text
    written: dict[str, Any] = r.json()
    destination = {"kind": "service", "id": str(SERVICE_ID)}
    triager = bearer(auth, roles=["triager"], org="93C")

    async def routed() -> bool:  # the directory's event reaches the front door in its time
        r = await referrals.post(
            f"/api/v1/referrals/{written['referral_id']}/triage",
            json={"decision": "route", "destination": destination},
            headers=triager,
        )
        assert r.status_code in (200, 422), r.text
        return r.status_code == 200

    await wait_until(routed, timeout=30, what="the front door to route to the VCSE service")
    r = await referrals.post(
        f"/api/v1/referrals/{written['referral_id']}/start",
        headers=bearer(auth, roles=["practitioner"], org="VCS01", teams=[str(SERVICE_ID)]),
    )
    assert r.status_code == 200, r.text
    return written


async def indicator(outcomes: httpx.AsyncClient, auth: AuthSettings, path: str) -> dict[str, Any]:
    r = await outcomes.get(
        path, params={"by": "imd_quintile"}, headers=bearer(auth, roles=["analyst"], org="93C")
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def by_quintile(body: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {c["group"]["imd_quintile"]: (c["numerator"], c["denominator"]) for c in body["cells"]}


async def test_social_prescribing_moves_the_wellbeing_indicator_by_imd_quintile(
    service_databases: DatabaseFactory, brokers: Brokers, auth: AuthSettings
) -> None:
    referrals_db, outcomes_db = (
        await service_databases("referrals"),
        await service_databases("outcomes"),
    )
    prefix = brokers.kafka.topic_prefix if brokers.kafka else "mem."
    outcomes_app = create_app(
        outcomes_settings(outcomes_db, auth, brokers.kafka), broker=brokers.for_app()
    )
    async with (
        app_client(outcomes_app) as outcomes,
        app_client(referrals_app(referrals_db, auth, brokers)) as referrals,
    ):
        await list_vcse_service(brokers, prefix)
        most, least = postcode_in_quintile(1), postcode_in_quintile(5)
        # Four people from the most deprived quintile, four from the least.
        people = [
            (await routed_and_started(referrals, auth, 900 + 10 * i, most), 1) for i in range(4)
        ]
        people += [
            (await routed_and_started(referrals, auth, 950 + 10 * i, least), 5) for i in range(4)
        ]

        async def all_taken_up() -> bool:
            return by_quintile(await indicator(outcomes, auth, UPTAKE)) == {
                "1": (4, 4),
                "5": (4, 4),
            }

        await wait_until(all_taken_up, timeout=60, what="outcomes to count the uptake")

        link_worker = bearer(auth, roles=["practitioner"], org="VCS01", teams=[str(SERVICE_ID)])
        # Before support, everyone; after it, 1 of 4 improved in quintile 1, 3 of 4 in 5.
        improved = {1: 1, 5: 3}
        for i, (person, quintile) in enumerate(people):
            after = BETTER if i % 4 < improved[quintile] else SAME
            for answers in (BEFORE, after):
                r = await outcomes.post(
                    "/api/v1/measures",
                    json={
                        "person_id": person["person_id"],
                        "instrument": "swemwbs",
                        "answers": answers,
                        "context": {"social_prescription": person["referral_id"]},
                    },
                    headers=link_worker,
                )
                assert r.status_code == 201, r.text
        body = await indicator(outcomes, auth, WELLBEING)
        assert by_quintile(body) == {"1": (1, 4), "5": (3, 4)}
        assert body["overall"]["numerator"] == 4
        assert body["inequality"]["absolute_gap"] == pytest.approx(0.25 - 0.75)
        # Two equal groups at rank midpoints 0.25 and 0.75: the line's ends differ by 1.0.
        assert body["inequality"]["slope_index_of_inequality"] == pytest.approx(-1.0)
