"""Listings and lookups the directory tests share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from carethread.db import create_engine, session_factory
from carethread.db.tables import OutboxRow
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer


def curator(auth: AuthSettings, sub: str = "curator.one") -> dict[str, str]:
    return bearer(auth, roles=["curator"], org="VCS01", sub=sub)


def listing(name: str = "Archway Befriending", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organization": {"name": "Islington Friends (synthetic)", "description": "A charity"},
        "name": name,
        "description": "Weekly visits and phone calls for older people who feel lonely.",
        "taxonomy": ["befriending"],
        "minimum_age": 60,
        "boroughs": ["Islington"],
        "languages": ["en", "tr"],
        "delivery_modes": ["in_person", "phone"],
        "locations": [
            {
                "name": "Archway Community Centre",
                "address_1": "1 Example Road",
                "postcode": "N19 3NU",
                "accessibility": [{"code": "step_free", "description": "Step-free entrance"}],
            }
        ],
        "schedules": [{"byday": ["MO", "WE"], "opens_at": "10:00", "closes_at": "16:00"}],
        "contacts": [{"name": "Sam Example", "phone": "020 7946 0000"}],
        "referral_route": "formal_referral",
        "capacity": "accepting",
    }
    body.update(overrides)
    return body


async def outbox(database_url: str) -> list[dict[str, Any]]:
    """The events written so far, as envelopes, in outbox order (with their key)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as s:
            rows = (await s.scalars(select(OutboxRow).order_by(OutboxRow.position))).all()
    finally:
        await engine.dispose()
    return [json.loads(r.payload) | {"_key": r.key} for r in rows]


FIXTURES = Path(__file__).parent / "fixtures" / "oruk"


def oruk_example(name: str) -> Any:
    return json.loads((FIXTURES / "examples" / name).read_text())
