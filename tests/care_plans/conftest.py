from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from care_plans.api.dependencies import clock
from care_plans.app import create_app
from care_plans.settings import CarePlansSettings
from carethread.auth import mint_dev_token
from carethread.db import create_engine, session_factory
from carethread.db.tables import OutboxRow
from carethread.messaging import InMemoryBroker
from carethread.nhs import synthetic_nhs_numbers
from carethread.settings import AuthSettings
from carethread.testing.apps import running, settings_for_test

MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GP_TEAM, GP_ORG = "gp-archway", "F83004"  # Archway Medical Centre
SOCIAL_TEAM, SOCIAL_ORG = "asc-islington-north", "00AU"  # Islington adult social care
OUTSIDER_TEAM, OUTSIDER_ORG = "dn-barnet", "RRP"


@dataclass
class Clock:
    now: datetime = MONDAY_9AM

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def token(
    auth: AuthSettings,
    *,
    sub: str,
    org: str,
    teams: tuple[str, ...] | list[str] = (),
    roles: tuple[str, ...] | list[str] = ("practitioner",),
    name: str | None = None,
    neighbourhoods: tuple[str, ...] | list[str] = (),
) -> dict[str, str]:
    t = mint_dev_token(
        auth,
        sub=sub,
        org=org,
        roles=list(roles),
        teams=list(teams),
        neighbourhoods=list(neighbourhoods),
        name=name or sub,
    )
    return {"Authorization": f"Bearer {t}"}


@dataclass
class CarePlans:
    client: httpx.AsyncClient
    auth: AuthSettings
    clock: Clock
    settings: CarePlansSettings
    app: FastAPI
    _nhs: Any = field(default_factory=lambda: synthetic_nhs_numbers(start=42_000))

    def gp(self, sub: str = "dr.ada") -> dict[str, str]:
        return token(self.auth, sub=sub, org=GP_ORG, teams=[GP_TEAM], name="Dr Ada Example")

    def social_worker(self, sub: str = "sw.sam") -> dict[str, str]:
        return token(self.auth, sub=sub, org=SOCIAL_ORG, teams=[SOCIAL_TEAM], name="Sam Worker")

    def outsider(self, sub: str = "dn.olu") -> dict[str, str]:
        return token(self.auth, sub=sub, org=OUTSIDER_ORG, teams=[OUTSIDER_TEAM])

    def next_nhs_number(self) -> str:
        value: str = next(self._nhs)
        return value

    async def record_person(self, **overrides: object) -> dict[str, Any]:
        body = {
            "nhs_number": self.next_nhs_number(),
            "given_name": "Rosa",
            "family_name": "Synthetic",
            "birth_date": "1946-05-01",
            "postcode": "N19 3NU",
            "gp_practice_code": GP_ORG,
            "preferred_language": "pt",
            **overrides,
        }
        r = await self.client.post("/api/v1/persons", json=body, headers=self.gp())
        assert r.status_code == 201, r.text
        person: dict[str, Any] = r.json()
        return person

    async def plan(self, person_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.get(
            f"/api/v1/persons/{person_id}/care-plan", headers=headers or self.gp()
        )

    async def put(
        self,
        person_id: str,
        document: dict[str, Any],
        if_match: str | None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        h = dict(headers or self.gp())
        if if_match is not None:
            h["If-Match"] = if_match
        return await self.client.put(
            f"/api/v1/persons/{person_id}/care-plan", json=document, headers=h
        )

    async def patch(
        self,
        person_id: str,
        patch: dict[str, Any],
        if_match: str | None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        h = {**(headers or self.gp()), "Content-Type": "application/merge-patch+json"}
        if if_match is not None:
            h["If-Match"] = if_match
        return await self.client.patch(
            f"/api/v1/persons/{person_id}/care-plan", content=_json(patch), headers=h
        )

    async def event_types(self) -> list[str]:
        return [r.event_type for r in await outbox(self.settings.database_url)]


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


async def outbox(database_url: str) -> list[OutboxRow]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as s:
            return list((await s.scalars(select(OutboxRow).order_by(OutboxRow.position))).all())
    finally:
        await engine.dispose()


@pytest.fixture
def care_plans_settings(database_url: str, auth: AuthSettings) -> CarePlansSettings:
    return settings_for_test(CarePlansSettings, database_url, auth, max_body_bytes=512_000)


@pytest.fixture
async def care_plans(
    care_plans_settings: CarePlansSettings, auth: AuthSettings
) -> AsyncIterator[CarePlans]:
    app = create_app(care_plans_settings, broker=InMemoryBroker())
    fake = Clock()
    app.dependency_overrides[clock] = lambda: fake.now
    async with running(app) as client:
        yield CarePlans(client, auth, fake, care_plans_settings, app)
