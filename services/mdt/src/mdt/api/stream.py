"""The caseload's live stream: server-sent events, so an open MDT screen updates itself.

The stream says *that* the neighbourhood's caseload changed (its change counter, when, and
how fresh the view is); the screen then reads the caseload again with ``min_event`` if it
needs to. It polls the committed counter, so it works the same with several server
processes and never reports a change the caseload read could not yet see."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from carethread.auth import CurrentUser, record_access
from carethread.service import RuntimeDep, ServiceRuntime, UoWDep
from mdt.api.common import neighbourhood_for
from mdt.store import changes, queries

router = APIRouter(prefix="/api/v1", tags=["stream"])


def _message(event: str, version: int, data: dict[str, Any]) -> str:
    return f"event: {event}\nid: {version}\ndata: {json.dumps(data, default=str)}\n\n"


async def _freshness(runtime: ServiceRuntime) -> dict[str, Any]:
    async with runtime.sessions() as session:
        rows = await queries.freshness(session)
        fresh = {
            r.source_service: {
                "last_event_id": r.last_event_id,
                "last_event_time": r.last_event_time,
            }
            for r in rows
        }
        await session.rollback()  # (which expires the rows: read them first)
    return fresh


async def _changes(
    runtime: ServiceRuntime, neighbourhood: str, request: Request
) -> AsyncIterator[str]:
    poll = getattr(runtime.settings, "stream_poll_ms", 250) / 1000
    keepalive = getattr(runtime.settings, "stream_keepalive_s", 15.0)
    version, _ = await changes.neighbourhood_version(runtime.sessions, neighbourhood)
    yield _message("ready", version, {"neighbourhood": neighbourhood, "version": version})
    quiet_since = time.monotonic()
    while not await request.is_disconnected():
        await asyncio.sleep(poll)
        now, changed_at = await changes.neighbourhood_version(runtime.sessions, neighbourhood)
        if now != version:
            version = now
            quiet_since = time.monotonic()
            data = {
                "neighbourhood": neighbourhood,
                "version": version,
                "changed_at": changed_at,
                "freshness": await _freshness(runtime),
            }
            yield _message("caseload-changed", version, data)
        elif time.monotonic() - quiet_since >= keepalive:
            quiet_since = time.monotonic()
            yield ": still here\n\n"  # a comment keeps proxies from closing the connection


@router.get(
    "/neighbourhoods/{neighbourhood}/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "caseload changes"},
        403: {"description": "not in your token"},
        404: {"description": "unknown"},
    },
)
async def stream_caseload(
    neighbourhood: str, request: Request, runtime: RuntimeDep, uow: UoWDep, user: CurrentUser
) -> StreamingResponse:
    """``ready`` once, then ``caseload-changed`` whenever a line in the caseload changes."""
    neighbourhood_for(user, neighbourhood)
    await record_access(
        uow,
        user,
        service="mdt",
        action="read",
        resource_type="CaseloadStream",
        resource_id=neighbourhood,
        person_id=None,
    )
    await uow.commit()
    return StreamingResponse(
        _changes(runtime, neighbourhood, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
