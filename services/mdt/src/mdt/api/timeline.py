"""One person's story across every service."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from carethread.auth import CurrentUser, record_access
from carethread.errors import Forbidden, NotFound
from carethread.service import RuntimeDep, UoWDep
from mdt.api.common import MinEvent, WaitMs, freshness
from mdt.api.schemas import DirectoryService, Timeline, TimelineEntry
from mdt.domain.access import Relationship, relationship
from mdt.store import access, queries

router = APIRouter(prefix="/api/v1", tags=["timeline"])


@router.get(
    "/persons/{person_id}/timeline",
    response_model=Timeline,
    responses={403: {"description": "no relationship"}, 404: {"description": "unknown"}},
)
async def get_timeline(
    person_id: uuid.UUID,
    runtime: RuntimeDep,
    uow: UoWDep,
    user: CurrentUser,
    min_event: MinEvent = None,
    wait_ms: WaitMs = 0,
) -> Timeline:
    """One chronological story across the services, for a reader with a relationship to
    the person (their care team, a team with an open referral for them, or themselves).
    An id the front door has since merged into another answers with the person it is now
    (their id in ``person_id``)."""
    fresh = await freshness(runtime, uow, min_event, wait_ms)
    person_id = await access.current_id(uow.session, person_id)
    if not await access.is_known(uow.session, person_id):
        raise NotFound(f"No person {person_id} in the MDT view.")
    rel = relationship(
        user.as_caller(),
        str(person_id),
        await access.care_teams(uow.session, person_id),
        await access.open_referrals(uow.session, person_id),
    )
    allowed = rel is not Relationship.NONE
    await record_access(
        uow,
        user,
        service="mdt",
        action="read",
        resource_type="Timeline",
        resource_id=str(person_id),
        person_id=person_id,
        outcome="success" if allowed else "refused",
        details={"relationship": rel.value},
    )
    await uow.commit()  # a refused read is audited too
    if not allowed:
        raise Forbidden(
            "Your team is not in this person's care team and has no open referral for them; "
            "in an emergency, break the glass on their shared care record."
        )
    rows = await queries.timeline(uow.session, person_id)
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
