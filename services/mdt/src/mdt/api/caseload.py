"""The neighbourhood caseload, its headline numbers and the MDT meeting list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from carethread.auth import CurrentUser, record_access
from carethread.service import RuntimeDep, UoWDep
from mdt.api.common import (
    MinEvent,
    WaitMs,
    freshness,
    geography,
    neighbourhood_for,
    sees_every_neighbourhood,
)
from mdt.api.schemas import (
    CareTeamMember,
    Caseload,
    CaseloadEntry,
    Flag,
    Headline,
    Meeting,
    Neighbourhoods,
    NeighbourhoodSummary,
    Plan,
    Sort,
    Wellbeing,
)
from mdt.domain.caseload import meeting_reasons
from mdt.store import caseload as store
from mdt.store.tables import CaseloadPersonRow

router = APIRouter(prefix="/api/v1", tags=["caseload"])


def _entry(
    row: CaseloadPersonRow, overdue: int, referrals: list[uuid.UUID], now: datetime
) -> CaseloadEntry:
    waiting = row.waiting_since
    return CaseloadEntry(
        person_id=row.person_id,
        given_name=row.given_name,
        family_name=row.family_name,
        birth_date=row.birth_date,
        no_nhs_number=row.inclusion_health,
        referral_id=row.referral_id,
        open_referral_ids=referrals,
        status=row.status,
        urgency=row.urgency,
        waiting_since=waiting,
        waiting_days=(now - waiting).days if waiting else None,
        sla_breached=row.sla_breached,
        plan=Plan(plan_id=row.plan_id, status=row.plan_status, review_date=row.review_date)
        if row.plan_id and row.plan_status
        else None,
        care_team=[CareTeamMember.model_validate(m) for m in row.care_team],
        open_actions=row.open_actions,
        overdue_actions=overdue,
        wellbeing=Wellbeing.model_validate(row.wellbeing) if row.wellbeing else None,
        deteriorated=row.deteriorated,
        flags=row.flags,  # written from domain.caseload.FLAGS
        meeting_reasons=meeting_reasons(
            sla_breached=row.sla_breached, overdue_actions=overdue, deteriorated=row.deteriorated
        ),
    )


async def _entries(
    uow: UoWDep, rows: Sequence[CaseloadPersonRow], now: datetime
) -> list[CaseloadEntry]:
    overdue = await store.overdue_actions(uow.session, rows, now.date())
    referrals = await store.open_referrals(uow.session, rows)
    return [
        _entry(r, overdue.get(r.person_id, 0), referrals.get(r.person_id, []), now) for r in rows
    ]


@router.get("/neighbourhoods", response_model=Neighbourhoods)
async def list_neighbourhoods(
    runtime: RuntimeDep,
    uow: UoWDep,
    user: CurrentUser,
    min_event: MinEvent = None,
    wait_ms: WaitMs = 0,
) -> Neighbourhoods:
    """The neighbourhoods the caller may see, with how many people are on each caseload."""
    fresh = await freshness(runtime, uow, min_event, wait_ms)
    counts = await store.people_by_neighbourhood(uow.session)
    known = geography().neighbourhoods.values()
    visible = [n for n in known if sees_every_neighbourhood(user) or n.code in user.neighbourhoods]
    await record_access(
        uow,
        user,
        service="mdt",
        action="read",
        resource_type="NeighbourhoodList",
        resource_id=None,
        person_id=None,
    )
    await uow.commit()
    return Neighbourhoods(
        items=[
            NeighbourhoodSummary(
                id=n.code, name=n.name, borough=n.borough, people=counts.get(n.code, 0)
            )
            for n in sorted(visible, key=lambda n: n.code)
        ],
        freshness=fresh,
    )


@router.get(
    "/neighbourhoods/{neighbourhood}/caseload",
    response_model=Caseload,
    responses={403: {"description": "not in your token"}, 404: {"description": "unknown"}},
)
async def get_caseload(
    neighbourhood: str,
    runtime: RuntimeDep,
    uow: UoWDep,
    user: CurrentUser,
    min_event: MinEvent = None,
    wait_ms: WaitMs = 0,
    status: Annotated[str | None, Query(description="referral status")] = None,
    urgency: Annotated[str | None, Query()] = None,
    flag: Annotated[list[Flag] | None, Query(description="every flag given")] = None,
    sla_breached: bool | None = None,
    overdue: Annotated[bool | None, Query(description="has overdue plan actions")] = None,
    active_plan: bool | None = None,
    awaiting_triage: bool | None = None,
    sort: Sort = "waiting",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Caseload:
    """Everyone with an open referral or an active plan in the neighbourhood."""
    place = neighbourhood_for(user, neighbourhood)
    fresh = await freshness(runtime, uow, min_event, wait_ms)
    now = datetime.now(UTC)
    query = store.CaseloadQuery(
        neighbourhood=neighbourhood,
        today=now.date(),
        status=status,
        urgency=urgency,
        flags=flag or [],
        sla_breached=sla_breached,
        overdue=overdue,
        active_plan=active_plan,
        awaiting_triage=awaiting_triage,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    total, rows = await store.caseload(uow.session, query)
    items = await _entries(uow, rows, now)
    numbers = await store.headline(uow.session, neighbourhood, now.date())
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
        name=place.name,
        headline=Headline(**numbers),
        total=total,
        limit=limit,
        offset=offset,
        items=items,
        freshness=fresh,
    )


@router.get(
    "/neighbourhoods/{neighbourhood}/meeting",
    response_model=Meeting,
    responses={403: {"description": "not in your token"}, 404: {"description": "unknown"}},
)
async def get_meeting(
    neighbourhood: str,
    runtime: RuntimeDep,
    uow: UoWDep,
    user: CurrentUser,
    min_event: MinEvent = None,
    wait_ms: WaitMs = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Meeting:
    """People the rules put forward for the next MDT meeting — a breached triage time,
    overdue plan actions, a deterioration in their measures — most urgent first, each with
    the reasons."""
    place = neighbourhood_for(user, neighbourhood)
    fresh = await freshness(runtime, uow, min_event, wait_ms)
    now = datetime.now(UTC)
    query = store.CaseloadQuery(
        neighbourhood=neighbourhood, today=now.date(), sort="urgency", limit=limit, offset=offset
    )
    total, rows = await store.caseload(uow.session, query, extra=[store.for_meeting(now.date())])
    items = await _entries(uow, rows, now)
    await record_access(
        uow,
        user,
        service="mdt",
        action="read",
        resource_type="MeetingList",
        resource_id=neighbourhood,
        person_id=None,
    )
    await uow.commit()
    return Meeting(
        neighbourhood=neighbourhood, name=place.name, total=total, items=items, freshness=fresh
    )
