"""The MDT service in-process, fed events through its own consumer (inbox included)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from carethread.events import CloudEvent
from carethread.messaging import InMemoryBroker
from carethread.service import ServiceRuntime
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import bearer, running
from mdt.app import create_app
from mdt.settings import MdtSettings
from tests.mdt.history import NEIGHBOURHOOD
from tests.mdt.support import message


@dataclass
class MdtService:
    client: httpx.AsyncClient
    runtime: ServiceRuntime
    auth: AuthSettings

    async def feed(self, events: Sequence[CloudEvent]) -> None:
        assert self.runtime.consumer is not None
        await self.runtime.consumer.handle_batch([message(e, i) for i, e in enumerate(events)])

    def as_member(
        self, *neighbourhoods: str, roles: tuple[str, ...] = ("practitioner",)
    ) -> dict[str, str]:
        return bearer(
            self.auth, roles=list(roles), neighbourhoods=list(neighbourhoods or (NEIGHBOURHOOD,))
        )

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.as_member())


@asynccontextmanager
async def mdt_service(database_url: str, auth: AuthSettings) -> AsyncIterator[MdtService]:
    settings = MdtSettings(
        database_url=database_url,
        auth=auth,
        kafka=KafkaSettings(topic_prefix="mem."),
        log_json=False,
        max_wait_ms=2_000,
    )
    app = create_app(settings, broker=InMemoryBroker())
    async with running(app) as client:
        yield MdtService(client, app.state.runtime, auth)
