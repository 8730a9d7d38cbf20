"""The front door's events as other systems see them: on a real Kafka-protocol broker (Tansu),
each message valid against the JSON Schema that ``carethread events export`` documents, keyed
by the person, with its trace context; and the MDT view shows the new referral."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from jsonschema import Draft202012Validator

from carethread.events import registry, topics
from carethread.events.export import json_schemas
from carethread.messaging import IncomingMessage, KafkaBroker
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import bearer
from tests.referrals.test_fhir import FHIR_JSON, social_request
from tests.stack import (
    NEIGHBOURHOOD,
    Brokers,
    DatabaseFactory,
    app_client,
    caseload_ids,
    mdt_app,
    referral_body,
    referrals_app,
    wait_until,
)

SCHEMAS = json_schemas(registry)


async def front_door_messages(kafka: KafkaSettings) -> list[IncomingMessage]:
    return await KafkaBroker(kafka).read_all(kafka.topic_prefix + topics.REFERRALS)


async def test_every_front_door_event_on_tansu_matches_its_documented_schema(
    service_databases: DatabaseFactory, kafka_settings: KafkaSettings, auth: AuthSettings
) -> None:
    brokers = Brokers("tansu", kafka_settings)
    referrals_db, mdt_db = await service_databases("referrals"), await service_databases("mdt")
    door = bearer(auth, roles=["triager"], org="93C")
    async with (
        app_client(mdt_app(mdt_db, auth, brokers)) as mdt,
        app_client(referrals_app(referrals_db, auth, brokers)) as referrals,
    ):
        body = referral_body(71)
        person = body["person"]
        assert isinstance(person, dict)
        person.update(preferred_language="so", interpreter_needed=True)
        r = await referrals.post(
            "/api/v1/referrals", json=body, headers=bearer(auth, roles=["referrer"])
        )
        assert r.status_code == 201, r.text
        by_json = r.json()
        r = await referrals.post(
            "/fhir",
            content=json.dumps(
                {
                    "resourceType": "Bundle",
                    "type": "transaction",
                    "entry": [
                        {
                            "resource": social_request(),
                            "request": {"method": "POST", "url": "ServiceRequest"},
                        }
                    ],
                }
            ),
            headers={**bearer(auth, roles=["referrer"]), "content-type": FHIR_JSON},
        )
        assert r.status_code == 200, r.text
        ref = by_json["referral_id"]
        for path, move in [
            ("claim", None),
            ("triage", {"decision": "request_info", "reason": "Does she agree to this?"}),
            ("info_provided", {"reason": "Yes, she agrees."}),
            ("triage", {"decision": "accept", "destination": {"kind": "team", "id": "t-1"}}),
        ]:
            r = await referrals.post(f"/api/v1/referrals/{ref}/{path}", json=move, headers=door)
            assert r.status_code == 200, r.text
        last_event = r.json()["event_id"]

        expected = Counter(
            {
                "carethread.person.registered.v1": 2,
                "carethread.referral.received.v1": 2,
                "carethread.referral.status-changed.v1": 2,
                "carethread.referral.triaged.v1": 2,
            }
        )
        seen: list[IncomingMessage] = []

        async def all_published() -> bool:
            seen[:] = await front_door_messages(kafka_settings)
            found = Counter(json.loads(m.value)["type"] for m in seen)
            return found == expected

        await wait_until(all_published, timeout=30, what="the front door's events on Tansu")
        for message in seen:
            event: dict[str, Any] = json.loads(message.value)
            validator = Draft202012Validator(SCHEMAS[event["type"]])
            assert list(validator.iter_errors(event)) == [], event["type"]
            assert message.key == event["personid"]  # one person's events stay in order
            assert message.header("traceparent") == event["traceparent"]
        ids = [json.loads(m.value)["id"] for m in seen]
        assert last_event in ids

        # ... and the MDT view, fed by them, shows the new referrals.
        async def in_the_caseload() -> bool:
            return ref in await caseload_ids(mdt, auth)

        await wait_until(in_the_caseload, what="the referral in the MDT caseload")
        r = await mdt.get(
            f"/api/v1/neighbourhoods/{NEIGHBOURHOOD}/caseload",
            params={"min_event": last_event, "wait_ms": 20_000},
            headers=bearer(auth, roles=["admin"]),
        )
        statuses = {i["referral_id"]: i["status"] for i in r.json()["items"]}
        assert statuses[ref] == "accepted"
