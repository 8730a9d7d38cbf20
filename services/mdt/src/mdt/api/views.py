"""The MDT view's reads. Every read may wait for an event the caller just caused
(``min_event`` + ``wait_ms``) and always says how fresh it is."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from carethread.auth import CurrentUser, Principal, record_access
from carethread.db import UnitOfWork
from carethread.errors import Forbidden, NotFound
from carethread.reference import load_geography
from carethread.service import RuntimeDep, UoWDep
from mdt.api.schemas import (
    Caseload,
    CaseloadEntry,
    Freshness,
    SourceFreshness,
    Timeline,
    TimelineEntry,
)
from mdt.store import queries

router = APIRouter(prefix="/api/v1", tags=["mdt"])
MinEvent = Annotated[uuid.UUID | None, Query(description="an event id a write returned")]
WaitMs = Annotated[int, Query(ge=0, le=30_000, description="how long to wait for min_event")]
VIEW_ALL_ROLES = frozenset({"admin", "analyst"})


async def _freshness(
    runtime: RuntimeDep, uow: UnitOfWork, min_event: uuid.UUID | None, wait_ms: int
) -> Freshness:
    caught_up = True
    if min_event is not None:
        bound = min(wait_ms, getattr(runtime.settings, "max_wait_ms", 10_000))
        caught_up = await queries.wait_for_event(runtime.sessions, min_event, bound)
    rows = await queries.freshness(uow.session)
    return Freshness(
        sources={
            r.source_service: SourceFreshness(
                last_event_id=r.last_event_id,
                last_event_time=r.last_event_time,
                applied_at=r.applied_at,
                events_applied=r.events_applied,
            )
            for r in rows
        },
        waited_for=min_event,
        caught_up=caught_up,
    )


def _check_neighbourhood(user: Principal, neighbourhood: str) -> str:
    known = load_geography().neighbourhoods.get(neighbourhood)
    if known is None:
        raise NotFound(f"No neighbourhood {neighbourhood}.")
    if neighbourhood not in user.neighbourhoods and not user.has_any_role(sorted(VIEW_ALL_ROLES)):
        raise Forbidden(f"Your token does not give access to neighbourhood {neighbourhood}.")
    return known.name


@router.get("/neighbourhoods/{neighbourhood}/caseload", response_model=Caseload)
async def get_caseload(
    neighbourhood: str,
    runtime: RuntimeDep,
    uow: UoWDep,
    user: CurrentUser,
    min_event: MinEvent = None,
    wait_ms: WaitMs = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Caseload:
    name = _check_neighbourhood(user, neighbourhood)
    fresh = await _freshness(runtime, uow, min_event, wait_ms)
    total, rows = await queries.caseload(uow.session, neighbourhood, limit=limit, offset=offset)
    await record_access(
        uow,
        user,
        service="mdt",
        action="read",
        resource_type="Caseload",
        resource_id=neighbourhood,
        person_id=None,
    )
    await uow.commit()
    return Caseload(
        neighbourhood=neighbourhood,
        name=name,
        total=total,
        items=[
            CaseloadEntry(
                referral_id=r.referral_id,
                person_id=r.person_id,
                given_name=r.given_name,
                family_name=r.family_name,
                birth_date=r.birth_date,
                no_nhs_number=not r.has_nhs_number,
                status=r.status,
                urgency=r.urgency,
                source=r.source,
                received_at=r.received_at,
            )
            for r in rows
        ],
        freshness=fresh,
    )


@router.get("/persons/{person_id}/timeline", response_model=Timeline)
async def get_timeline(
    person_id: uuid.UUID,
    runtime: RuntimeDep,
    uow: UoWDep,
    user: CurrentUser,
    min_event: MinEvent = None,
    wait_ms: WaitMs = 0,
) -> Timeline:
    fresh = await _freshness(runtime, uow, min_event, wait_ms)
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
            )
            for r in rows
        ],
        freshness=fresh,
    )
