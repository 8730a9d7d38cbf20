"""``/api/v1/persons/{person_id}/care-plan``: the shared plan, its versions and their diffs."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from care_plans import use_cases
from care_plans.api.dependencies import ExpectedVersions, Now
from care_plans.api.render import plan_response
from care_plans.api.schemas import ChangeRead, DiffRead, PlanRead, VersionRead
from care_plans.domain.calendar import local_date
from care_plans.domain.document import PlanDocument
from carethread.auth import CurrentUser
from carethread.errors import BadRequest, Problem
from carethread.service import UoWDep

router = APIRouter(prefix="/api/v1/persons/{person_id}/care-plan", tags=["care plans"])
MERGE_PATCH = "application/merge-patch+json"
ETAG_HEADER = {"ETag": {"description": "the plan's version: send it back in If-Match"}}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed If-Match"},
    403: {"description": "no relationship with the person"},
    404: {"description": "unknown person"},
    412: {"description": "the plan has moved on since the If-Match version"},
    422: {"description": "invalid plan, with the path of each bad field"},
    428: {"description": "If-Match is missing"},
}


class UnsupportedMediaType(Problem):
    status, title, slug = 415, "Unsupported Media Type", "unsupported-media-type"


@router.get(
    "", response_model=PlanRead, responses={200: {"headers": ETAG_HEADER}}, name="read_care_plan"
)
async def read_care_plan(
    person_id: uuid.UUID, uow: UoWDep, user: CurrentUser, now: Now
) -> JSONResponse:
    """The person's plan, with its version as the ``ETag``. The read is audited. An id the
    front door merged into another reads the person's plan now; ``meta.records_to_combine``
    lists records kept from such ids that await combining."""
    opened = await use_cases.open_record(uow, person_id, user, now=now, action="read")
    await uow.commit()
    return plan_response(
        opened.plan, opened.relationship.value, local_date(now), to_combine=opened.to_combine
    )


@router.put(
    "",
    response_model=PlanRead,
    responses={200: {"headers": ETAG_HEADER}, **WRITE_ERRORS},
    name="replace_care_plan",
)
async def replace_care_plan(
    person_id: uuid.UUID,
    body: PlanDocument,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    expected: ExpectedVersions,
) -> JSONResponse:
    """Replace the plan document; ``If-Match`` must name the version you read."""
    saved, rel = await use_cases.replace_plan(
        uow, person_id, body, user, expected=expected, now=now
    )
    await uow.commit()
    return plan_response(saved.plan, rel.value, local_date(now))


async def _merge_patch_body(request: Request) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (MERGE_PATCH, "application/json"):
        raise UnsupportedMediaType(f"PATCH takes a JSON Merge Patch ({MERGE_PATCH}).")
    try:
        patch = json.loads(await request.body())
    except ValueError as e:
        raise BadRequest(f"The body is not JSON: {e}") from e
    if not isinstance(patch, dict):
        raise BadRequest("A merge patch of the plan document is a JSON object.")
    return patch


@router.patch(
    "",
    response_model=PlanRead,
    responses={
        200: {"headers": ETAG_HEADER},
        415: {"description": "not a merge patch"},
        **WRITE_ERRORS,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {MERGE_PATCH: {"schema": {"type": "object"}}},
            "description": "RFC 7396 JSON Merge Patch over the plan document",
        }
    },
    name="patch_care_plan",
)
async def patch_care_plan(
    person_id: uuid.UUID,
    request: Request,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    expected: ExpectedVersions,
) -> JSONResponse:
    """Change part of the plan (RFC 7396: objects merge, ``null`` removes, arrays replace)."""
    patch = await _merge_patch_body(request)
    saved, rel = await use_cases.patch_plan(uow, person_id, patch, user, expected=expected, now=now)
    await uow.commit()
    return plan_response(saved.plan, rel.value, local_date(now))


HISTORY_PAGE = 100


@router.get(
    "/history",
    response_model=list[VersionRead],
    responses={200: {"headers": {"Link": {"description": 'the next page, rel="next"'}}}},
    name="read_care_plan_history",
)
async def read_care_plan_history(
    person_id: uuid.UUID,
    request: Request,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    after: Annotated[int, Query(ge=0, description="versions numbered above this")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = HISTORY_PAGE,
) -> JSONResponse:
    """The versions, oldest first, a page at a time: who saved each (organisation, role),
    when, and the paths they changed. A ``Link: <...>; rel="next"`` header names the next
    page while there is one."""
    opened, rows = await use_cases.history(uow, person_id, user, now=now, after=after, limit=limit)
    await uow.commit()
    headers = {"Cache-Control": "no-store"}
    if rows and rows[-1]["version"] < opened.plan.version:
        following = request.url.include_query_params(after=rows[-1]["version"], limit=limit)
        headers["Link"] = f'<{following}>; rel="next"'
    # Rows straight from the store's columns, in VersionRead's shape (documented above).
    return JSONResponse(
        [{**r, "changed_at": r["changed_at"].isoformat()} for r in rows], headers=headers
    )


@router.get("/history/{version}", response_model=PlanRead, name="read_care_plan_version")
async def read_care_plan_version(
    person_id: uuid.UUID, version: int, uow: UoWDep, user: CurrentUser, now: Now
) -> JSONResponse:
    """The plan as it was at ``version``."""
    opened, row = await use_cases.one_version(uow, person_id, version, user, now=now)
    await uow.commit()
    plan = opened.plan
    snapshot = type(plan)(
        id=plan.id,
        person_id=plan.person_id,
        version=row.version,
        document=row.document,
        created_at=plan.created_at,
        updated_at=row.changed_at,
        updated_by=row.changed_by,
        updated_by_org=row.organisation,
    )
    return plan_response(snapshot, opened.relationship.value, local_date(now))


@router.get("/diff", response_model=DiffRead, name="diff_care_plan_versions")
async def diff_care_plan_versions(
    person_id: uuid.UUID,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    from_: Annotated[int, Query(alias="from", ge=1)],
    to: Annotated[int, Query(ge=1)],
) -> DiffRead:
    """What changed from one version to another, path by path."""
    changes = await use_cases.compare(uow, person_id, from_, to, user, now=now)
    await uow.commit()
    return DiffRead(
        person_id=person_id,
        from_version=from_,
        to_version=to,
        changes=[ChangeRead(path=c.path, op=c.op, before=c.before, after=c.after) for c in changes],
    )
