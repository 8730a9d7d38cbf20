from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from carethread.db import create_engine, session_factory
from carethread.db.tables import AuditRow, OutboxRow
from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings
from carethread.testing.apps import bearer, running, settings_for_test
from outcomes.api.dependencies import clock
from outcomes.app import create_app
from outcomes.settings import OutcomesSettings
from tests.outcomes.events_in import AT


@dataclass
class Clock:
    now: datetime = AT


@dataclass
class Outcomes:
    app: FastAPI
    client: httpx.AsyncClient
    settings: OutcomesSettings
    auth: AuthSettings
    clock: Clock

    def as_(self, roles: list[str], **claims: Any) -> dict[str, str]:
        return bearer(self.auth, roles=roles, **claims)

    async def count(self, table: Any, *where: Any) -> int:
        engine = create_engine(self.settings.database_url)
        async with session_factory(engine)() as s:
            n = await s.scalar(select(func.count()).select_from(table).where(*where))
        await engine.dispose()
        return int(n or 0)

    async def outbox(self, event_type: str) -> list[dict[str, Any]]:
        engine = create_engine(self.settings.database_url)
        async with session_factory(engine)() as s:
            rows = (
                await s.scalars(
                    select(OutboxRow)
                    .where(OutboxRow.event_type == event_type)
                    .order_by(OutboxRow.position)
                )
            ).all()
        await engine.dispose()
        return [json.loads(r.payload) for r in rows]

    async def audit(self) -> list[AuditRow]:
        engine = create_engine(self.settings.database_url)
        async with session_factory(engine)() as s:
            rows = list((await s.scalars(select(AuditRow).order_by(AuditRow.recorded_at))).all())
        await engine.dispose()
        return rows


@pytest.fixture
def outcomes_settings(database_url: str, auth: AuthSettings) -> OutcomesSettings:
    return settings_for_test(OutcomesSettings, database_url, auth, consumer_retry_backoff_ms=10)


@pytest.fixture
async def outcomes(
    outcomes_settings: OutcomesSettings, auth: AuthSettings
) -> AsyncIterator[Outcomes]:
    app = create_app(outcomes_settings, broker=InMemoryBroker())
    now = Clock()
    app.dependency_overrides[clock] = lambda: now.now
    async with running(app) as client:
        yield Outcomes(app, client, outcomes_settings, auth, now)
