"""The caseload's live stream delivers a change to a connected client, over a real HTTP
server (server-sent events need a connection that stays open)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import uvicorn

from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import bearer
from carethread.testing.tansu import free_port
from mdt.app import create_app
from mdt.settings import MdtSettings
from tests.mdt.app import MdtService
from tests.mdt.history import NEIGHBOURHOOD, OTHER_NEIGHBOURHOOD, START, Person, Referral

STREAM = f"/api/v1/neighbourhoods/{NEIGHBOURHOOD}/stream"


@asynccontextmanager
async def served(database_url: str, auth: AuthSettings) -> AsyncIterator[MdtService]:
    settings = MdtSettings(
        database_url=database_url,
        auth=auth,
        kafka=KafkaSettings(topic_prefix="mem."),
        log_json=False,
        stream_poll_ms=50,
    )
    app = create_app(settings, broker=InMemoryBroker())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the server stopped before it started"
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield MdtService(client, app.state.runtime, auth)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def next_event(lines: AsyncIterator[str]) -> tuple[str, dict[str, object]]:
    """The next ``event:``/``data:`` pair (comments and ids skipped)."""
    name = ""
    async for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            return name, json.loads(line.removeprefix("data: "))
    raise AssertionError("the stream ended")


async def test_a_connected_screen_hears_of_a_change_in_its_neighbourhood(
    database_url: str, auth: AuthSettings
) -> None:
    async with served(database_url, auth) as mdt:
        headers = mdt.as_member()
        async with mdt.client.stream("GET", STREAM, headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            assert await asyncio.wait_for(next_event(lines), 5) == (
                "ready",
                {"neighbourhood": NEIGHBOURHOOD, "version": 0},
            )
            # A change elsewhere is not announced here; one in the neighbourhood is.
            away = Person(1, nhs_number=None, neighbourhood=OTHER_NEIGHBOURHOOD)
            await mdt.feed([away.referred(Referral(away), START)])
            person = Person(2, nhs_number=None)
            referral = Referral(person)
            received = person.referred(referral, START + timedelta(hours=1))
            await mdt.feed([received])
            name, data = await asyncio.wait_for(next_event(lines), 5)
            assert name == "caseload-changed"
            assert data["version"] == 1
            freshness = data["freshness"]
            assert isinstance(freshness, dict)
            assert freshness["referrals"]["last_event_id"] == str(received.id)

            await mdt.feed([referral.triaged(START + timedelta(hours=2), "accept", "accepted")])
            name, data = await asyncio.wait_for(next_event(lines), 5)
            assert (name, data["version"]) == ("caseload-changed", 2)


async def test_the_stream_is_refused_outside_the_token(
    database_url: str, auth: AuthSettings
) -> None:
    async with served(database_url, auth) as mdt:
        r = await mdt.client.get(
            f"/api/v1/neighbourhoods/{OTHER_NEIGHBOURHOOD}/stream", headers=mdt.as_member()
        )
        assert r.status_code == 403
        r = await mdt.client.get(
            "/api/v1/neighbourhoods/X99999/stream", headers=bearer(auth, roles=["admin"])
        )
        assert r.status_code == 404
