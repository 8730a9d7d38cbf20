"""The queue page and the intake receipt are written as JSON straight from the rows' values,
not through the response models: they must be exactly what the models would write."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from asyncpg.pgproto.pgproto import UUID as DriverUUID

from referrals.api.referrals import dump_json, queue_line
from referrals.api.schemas import ReferralPage, ReferralRead, WriteReceipt
from referrals.domain.lifecycle import Status

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DESTINATIONS: list[dict[str, str] | None] = [
    None,
    {"kind": "neighbourhood_mdt", "id": "U12345"},
    {"kind": "service", "id": str(uuid.UUID(int=7)), "name": "Befriending \u2013 Haringey"},
    {"kind": "team", "id": "frailty", "name": ""},
]
NAMES = ["Ada", "Zoë", "O'Brien", 'Quote "Q"', "Back\\slash", "Tab\tNew\nLine", "\u00e9\u4e2d"]


def row(rng: random.Random, status: Status) -> dict[str, Any]:
    received = NOW - timedelta(days=rng.randrange(0, 60), seconds=rng.randrange(86_400))
    received = received.replace(microsecond=rng.choice([0, 1, 123_456, 999_999]))
    due = received + timedelta(hours=rng.choice([2, 24, 120]))
    decided = status not in (Status.RECEIVED, Status.IN_TRIAGE)
    triaged = received + timedelta(hours=rng.choice([1, 30, 200])) if decided else None
    return {
        # On PostgreSQL the driver gives its own UUID type (a subclass); on SQLite, uuid's.
        "id": DriverUUID(str(uuid.UUID(int=rng.getrandbits(128), version=4))),
        "person_id": rng.choice([uuid.UUID, DriverUUID])(str(uuid.uuid4())),
        "nhs_number": rng.choice([None, "9990001234"]),
        "given_name": rng.choice(NAMES),
        "family_name": rng.choice(NAMES),
        "birth_date": rng.choice([None, date(1940, 2, 29), date(2001, 12, 31)]),
        "sex": rng.choice([None, "female", "male", "other", "unknown"]),
        "postcode": rng.choice([None, "N1 9GU"]),
        "gp_practice_code": rng.choice([None, "F83004"]),
        "ethnicity_code": rng.choice([None, "A", "Z"]),
        "preferred_language": rng.choice([None, "tr", "bfi"]),
        "interpreter_needed": rng.choice([True, False]),
        "status": status.value,
        "urgency": rng.choice(["emergency", "urgent", "routine"]),
        "source": rng.choice(["gp", "vcse", "self"]),
        "reason_codes": rng.choice([[], ["housing"], ["debt-benefits", "871731000000106"]]),
        "neighbourhood": rng.choice([None, "Haringey North East"]),
        "borough": rng.choice([None, "Haringey"]),
        "referrer_org": "F83004",
        "referrer_name": rng.choice(NAMES),
        "referrer_role": rng.choice([None, "GP"]),
        "consent_to_share": rng.choice([True, False]),
        "received_at": received,
        "version": rng.randrange(1, 6),
        "triage_due_at": due,
        "triaged_at": triaged,
        "status_changed_at": triaged or received,
        "claimed_by": rng.choice([None, "triager.a"]),
        "destination": rng.choice(DESTINATIONS) if decided else None,
        "probable_duplicate": rng.choice([True, False]),
    }


def test_a_queue_page_is_what_the_page_model_writes() -> None:
    rng = random.Random(3)
    rows = [row(rng, status) for status in Status for _ in range(20)]
    page = {"total": 1234, "limit": 50, "offset": 100}
    items = [queue_line(r, NOW) for r in rows]
    fast = dump_json({**page, "items": items})
    assert fast == ReferralPage.model_validate({**page, "items": items}).model_dump_json().encode()
    decoded = json.loads(fast)["items"]
    assert {line["status"] for line in decoded} == {s.value for s in Status}
    assert any(line["destination"] and line["destination"]["name"] is None for line in decoded)
    assert all(line["received_at"].endswith("Z") for line in decoded)


def test_an_empty_page_is_what_the_page_model_writes() -> None:
    page = {"total": 0, "limit": 50, "offset": 0, "items": []}
    assert dump_json(page) == ReferralPage.model_validate(page).model_dump_json().encode()


def test_a_receipt_is_what_the_receipt_model_writes() -> None:
    rng = random.Random(5)
    for status in Status:
        line = queue_line(row(rng, status), NOW)
        receipt = {
            "referral_id": line["id"],
            "person_id": line["person_id"],
            "event_id": uuid.uuid4(),
            "referral": line,
        }
        assert dump_json(receipt) == WriteReceipt.model_validate(receipt).model_dump_json().encode()
        assert ReferralRead.model_validate(line).model_dump(mode="json") == json.loads(
            dump_json(line)
        )
