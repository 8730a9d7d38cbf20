"""One person's story across every service."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from carethread.auth import CurrentUser, record_access
from carethread.service import RuntimeDep, UoWDep
from mdt.api.common import MinEvent, WaitMs, freshness
from mdt.api.schemas import DirectoryService, Timeline, TimelineEntry
from mdt.store import queries

router = APIRouter(prefix="/api/v1", tags=["timeline"])


@router.get("/persons/{person_id}/timeline", response_model=Timeline)
async def get_timeline(
    person_id: uuid.UUID,
    runtime: RuntimeDep,
    uow: UoWDep,
    user: CurrentUser,
    min_event: MinEvent = None,
    wait_ms: WaitMs = 0,
) -> Timeline:
    fresh = await freshness(runtime, uow, min_event, wait_ms)
    rows = await queries.timeline(uow.session, person_id)
    await record_access(
        uow,
        user,
        service="mdt",
        action="read",
        resource_type="Timeline",
        resource_id=str(person_id),
        person_id=person_id,
    )
    await uow.commit()
    return Timeline(
        person_id=person_id,
        entries=[
            TimelineEntry(
                event_id=r.event_id,
                occurred_at=r.occurred_at,
                source_service=r.source_service,
                event_type=r.event_type,
                summary=r.summary,
                organisation=r.organisation,
                directory_service=DirectoryService(service_id=r.directory_service_id, name=name)
                if r.directory_service_id
                else None,
            )
            for r, name in rows
        ],
        freshness=fresh,
    )
