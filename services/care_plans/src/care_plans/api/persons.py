"""``/api/v1/persons``: the person record, break-glass and "who has looked at my record"."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from care_plans import use_cases
from care_plans.api.dependencies import Now
from care_plans.api.render import merged_record, person_body, plan_body, plan_response
from care_plans.api.schemas import (
    AccessLog,
    AccessLogEntry,
    BreakGlassIn,
    MergedRecord,
    PersonCreate,
    PersonRead,
    PlanRead,
    VersionRead,
)
from care_plans.domain.calendar import local_date
from carethread.auth import CurrentUser
from carethread.db.tables import AuditRow
from carethread.reference import load_geography
from carethread.service import UoWDep

router = APIRouter(prefix="/api/v1/persons", tags=["persons"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=PersonRead, name="record_person"
)
async def record_person(body: PersonCreate, uow: UoWDep, user: CurrentUser, now: Now) -> PersonRead:
    """Record a person whose plan starts without a referral; you and your team become the
    first care team (you the key worker). 409 if they already have a record."""
    details = body.model_dump()
    geography = load_geography()
    details["neighbourhood"] = geography.neighbourhood_for(body.gp_practice_code, body.postcode)
    place = geography.postcode(body.postcode) if body.postcode else None
    details["borough"] = place.borough if place else None
    person, plan = await use_cases.record_person(uow, details, user, now=now)
    await uow.commit()
    return PersonRead.model_validate(person_body(person, plan, "care_team"))


@router.get("/{person_id}", response_model=PersonRead, name="read_person")
async def read_person(person_id: uuid.UUID, uow: UoWDep, user: CurrentUser, now: Now) -> PersonRead:
    """The person: identifiers, demographics, communication needs and About Me. An id the
    front door merged into another answers with the person as they are now (their id)."""
    opened = await use_cases.open_record(
        uow, person_id, user, now=now, action="read", resource_type="Patient"
    )
    await uow.commit()
    return PersonRead.model_validate(
        person_body(opened.person, opened.plan, opened.relationship.value, opened.to_combine)
    )


@router.get(
    "/{person_id}/merged-records/{merged_id}/care-plan",
    response_model=PlanRead,
    name="read_merged_record",
)
async def read_merged_record(
    person_id: uuid.UUID, merged_id: uuid.UUID, uow: UoWDep, user: CurrentUser, now: Now
) -> JSONResponse:
    """The plan kept under ``merged_id`` when the front door merged it into this person
    while both ids had a record here (read-only; ``meta.merged_into`` names this person).
    Their care team carries over what they judge right, then marks it combined."""
    kept = await use_cases.kept_record(uow, person_id, merged_id, user, now=now)
    await uow.commit()
    body = plan_body(kept.plan, kept.opened.relationship.value, local_date(now))
    body["meta"]["merged_into"] = str(kept.opened.person.id)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get(
    "/{person_id}/merged-records/{merged_id}/care-plan/history",
    response_model=list[VersionRead],
    name="read_merged_record_history",
)
async def read_merged_record_history(
    person_id: uuid.UUID,
    merged_id: uuid.UUID,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    after: Annotated[int, Query(ge=0, description="versions numbered above this")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSONResponse:
    """The kept plan's versions, oldest first (who saved each, when, what they changed)."""
    rows = await use_cases.kept_history(
        uow, person_id, merged_id, user, now=now, after=after, limit=limit
    )
    await uow.commit()
    return JSONResponse(
        [{**r, "changed_at": r["changed_at"].isoformat()} for r in rows],
        headers={"Cache-Control": "no-store"},
    )


@router.post(
    "/{person_id}/merged-records/{merged_id}/combined",
    response_model=MergedRecord,
    name="mark_merged_record_combined",
)
async def mark_merged_record_combined(
    person_id: uuid.UUID, merged_id: uuid.UUID, uow: UoWDep, user: CurrentUser, now: Now
) -> MergedRecord:
    """Say that what was right in the kept record is now in this person's record: it no
    longer awaits combining. It is kept, read-only; nothing is deleted. Needs the right to
    change the record; saying it again changes nothing."""
    kept = await use_cases.mark_combined(uow, person_id, merged_id, user, now=now)
    await uow.commit()
    return MergedRecord.model_validate(merged_record(kept.alias, kept.plan))


@router.post("/{person_id}/break-glass", response_model=PlanRead, name="break_glass")
async def break_glass(
    person_id: uuid.UUID, body: BreakGlassIn, uow: UoWDep, user: CurrentUser, now: Now
) -> JSONResponse:
    """Read a record you have no relationship with, for a stated reason. The read is audited
    and flagged, and further reads in the next hour are too; it never allows a change."""
    opened = await use_cases.break_glass(uow, person_id, body.reason, user, now=now)
    await uow.commit()
    return plan_response(opened.plan, opened.relationship.value, local_date(now))


def _entry(row: AuditRow) -> AccessLogEntry:
    details = row.details or {}
    return AccessLogEntry(
        at=row.recorded_at,
        actor=row.actor,
        organisation=row.organisation,
        roles=list(row.roles),
        action=row.action,
        resource_type=row.resource_type,
        purpose=row.purpose,
        outcome=row.outcome,
        break_glass=bool(details.get("break_glass")),
        reason=details.get("reason"),
    )


@router.get("/{person_id}/access-log", response_model=AccessLog, name="read_access_log")
async def read_access_log(
    person_id: uuid.UUID,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AccessLog:
    """Who has looked at this record, when and why (newest first), refused attempts and
    break-glass reads included. The person may read their own."""
    rows = await use_cases.access_log(uow, person_id, user, now=now, limit=limit)
    await uow.commit()
    return AccessLog(person_id=person_id, entries=[_entry(r) for r in rows])
