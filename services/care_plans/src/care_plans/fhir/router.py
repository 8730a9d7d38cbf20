"""``/fhir``: the record as FHIR R4 (UK Core) for EPRs, and plans authored elsewhere.

Reads: ``Patient/{id}``, ``Patient?identifier=<nhs-number system>|<n>``, ``CarePlan/{id}``,
``CarePlan``, ``CareTeam`` and ``Goal`` searched by ``subject=Patient/{id}``. Writes:
``POST Patient`` (records the person), ``POST CarePlan`` (its activities become actions) and
``POST CareTeam`` (participants join or, for an inactive team, leave). Every answer is
``application/fhir+json`` and every error an OperationOutcome; every read is audited.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from care_plans.api.dependencies import Now
from care_plans.domain.calendar import local_date
from care_plans.domain.document import PlanDocument
from care_plans.fhir import codes, outbound
from care_plans.fhir import use_cases as fhir
from carethread.auth import CurrentUser
from carethread.errors import Problem
from carethread.fhir.outcome import ISSUE_CODE, FhirError, Issue, fhirpath, operation_outcome
from carethread.observability.logging import get_logger
from carethread.service import UoWDep

log = get_logger(__name__)


class FhirResponse(JSONResponse):
    media_type = codes.FHIR_JSON


def _outcome(status: int, issues: list[Issue]) -> FhirResponse:
    return FhirResponse(operation_outcome(issues), status_code=status)


def _as_outcome(exc: Exception, request: Request) -> FhirResponse:
    if isinstance(exc, FhirError):
        return _outcome(exc.status, exc.issues)
    if isinstance(exc, Problem):
        return _outcome(
            exc.status, [Issue(exc.detail or exc.title, ISSUE_CODE.get(exc.status, "processing"))]
        )
    if isinstance(exc, RequestValidationError):
        issues = [
            Issue(f"{' '.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}")
            for e in exc.errors()
        ]
        return _outcome(400, issues)
    if isinstance(exc, DBAPIError):
        log.error("database error", error=repr(exc), path=request.url.path)
        return _outcome(503, [Issue("The database could not complete the request.", "transient")])
    log.exception("unhandled error", path=request.url.path)
    return _outcome(500, [Issue("An unexpected error occurred; nothing was saved.", "exception")])


class FhirRoute(APIRoute):
    """A route whose every error, its dependencies' included, is an OperationOutcome."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return _as_outcome(exc, request)

        return handle


router = APIRouter(
    prefix="/fhir", tags=["fhir"], route_class=FhirRoute, default_response_class=FhirResponse
)
_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {codes.FHIR_JSON: {"schema": {"type": "object"}}}}
}


def _base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{router.prefix}"


async def _resource(request: Request, model: type[Resource]) -> dict[str, Any]:
    """The body as a structurally valid ``model`` (R4B), else 400/415/422 naming where."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media not in (codes.FHIR_JSON, "application/json"):
        raise FhirError(415, [Issue(f"Send {codes.FHIR_JSON}.", "not-supported")])
    try:
        data = json.loads(await request.body())
    except ValueError as e:
        raise FhirError(400, [Issue(f"The body is not JSON: {e}", "structure")]) from None
    name = model.__name__
    if not isinstance(data, dict) or data.get("resourceType") != name:
        raise FhirError(422, [Issue(f"Expected a {name}.", "structure", ("resourceType",))])
    try:
        model.model_validate(data)
    except ValidationError as e:
        issues = [
            Issue(err.get("msg", ""), "structure", (fhirpath(name, err.get("loc", ())),))
            for err in e.errors()
        ]
        raise FhirError(422, issues) from None
    except (KeyError, ValueError, TypeError) as e:
        raise FhirError(422, [Issue(f"Not a valid {name}: {e}", "structure", (name,))]) from None
    return data


def _person_id(value: str, kind: str = "Patient") -> uuid.UUID:
    found = fhir.as_uuid(value.removeprefix("Patient/"))
    if found is None:
        raise FhirError(404, [Issue(f"No {kind} {value}.", "not-found")])
    return found


Subject = Annotated[str, Query(description="Patient/{id}")]


@router.get("/Patient/{person_id}", response_model=None, name="fhir_read_patient")
async def read_patient(person_id: str, uow: UoWDep, user: CurrentUser, now: Now) -> FhirResponse:
    asked = _person_id(person_id)
    record = await fhir.read(uow, asked, user, now, "Patient")
    await uow.commit()
    body = outbound.patient(record.person)
    if record.person.id != asked:  # an id merged into this person's: it says so
        body["link"] = [{"other": {"reference": f"Patient/{asked}"}, "type": "replaces"}]
    return FhirResponse(body)


@router.get("/Patient", response_model=None, name="fhir_search_patient")
async def search_patient(
    request: Request,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    identifier: Annotated[str, Query(description=f"{codes.NHS_NUMBER}|<NHS number>")],
) -> FhirResponse:
    system, _, value = identifier.rpartition("|")
    if system != codes.NHS_NUMBER or not value:
        raise FhirError(400, [Issue(f"Search by identifier={codes.NHS_NUMBER}|<NHS number>.")])
    record = await fhir.by_nhs_number(uow, value, user, now)
    await uow.commit()
    found = [outbound.patient(record.person)] if record else []
    return FhirResponse(outbound.searchset(_base(request), found))


@router.post(
    "/Patient", status_code=201, response_model=None, openapi_extra=_BODY, name="fhir_post_patient"
)
async def post_patient(request: Request, uow: UoWDep, user: CurrentUser, now: Now) -> FhirResponse:
    data = await _resource(request, Patient)
    record, created = await fhir.receive_patient(uow, data, user, now)
    await uow.commit()
    return FhirResponse(
        outbound.patient(record.person),
        status_code=201 if created else 200,
        headers={"Location": f"{_base(request)}/Patient/{record.person.id}"},
    )


@router.get("/CarePlan/{plan_id}", response_model=None, name="fhir_read_care_plan")
async def read_care_plan(plan_id: str, uow: UoWDep, user: CurrentUser, now: Now) -> FhirResponse:
    record = await fhir.plan_by_id(uow, _person_id(plan_id, "CarePlan"), user, now)
    await uow.commit()
    return FhirResponse(outbound.care_plan(record.plan, record.person, local_date(now)))


@router.get("/CarePlan", response_model=None, name="fhir_search_care_plan")
async def search_care_plan(
    request: Request, uow: UoWDep, user: CurrentUser, now: Now, subject: Subject
) -> FhirResponse:
    record = await fhir.read(uow, _person_id(subject), user, now, "CarePlan")
    await uow.commit()
    resource = outbound.care_plan(record.plan, record.person, local_date(now))
    return FhirResponse(outbound.searchset(_base(request), [resource]))


@router.get("/CareTeam", response_model=None, name="fhir_search_care_team")
async def search_care_team(
    request: Request, uow: UoWDep, user: CurrentUser, now: Now, subject: Subject
) -> FhirResponse:
    record = await fhir.read(uow, _person_id(subject), user, now, "CareTeam")
    await uow.commit()
    resource = outbound.care_team(record.plan, record.person)
    return FhirResponse(outbound.searchset(_base(request), [resource]))


@router.get("/Goal", response_model=None, name="fhir_search_goal")
async def search_goal(
    request: Request, uow: UoWDep, user: CurrentUser, now: Now, subject: Subject
) -> FhirResponse:
    record = await fhir.read(uow, _person_id(subject), user, now, "Goal")
    await uow.commit()
    goals = PlanDocument.model_validate(record.plan.document).goals
    return FhirResponse(
        outbound.searchset(_base(request), [outbound.goal(g, record.person) for g in goals])
    )


async def _receive(
    request: Request, uow: UoWDep, user: CurrentUser, now: Now, kind: str
) -> FhirResponse:
    data = await _resource(request, CarePlan if kind == "CarePlan" else CareTeam)
    record = await fhir.receive(uow, data, kind, user, now)
    await uow.commit()
    if kind == "CarePlan":
        body = outbound.care_plan(record.plan, record.person, local_date(now))
    else:
        body = outbound.care_team(record.plan, record.person)
    return FhirResponse(
        body, status_code=201, headers={"Location": f"{_base(request)}/{kind}/{record.plan.id}"}
    )


@router.post(
    "/CarePlan",
    status_code=201,
    response_model=None,
    openapi_extra=_BODY,
    name="fhir_post_care_plan",
)
async def post_care_plan(
    request: Request, uow: UoWDep, user: CurrentUser, now: Now
) -> FhirResponse:
    """A plan authored elsewhere: its activities join the shared plan as actions."""
    return await _receive(request, uow, user, now, "CarePlan")


@router.post(
    "/CareTeam",
    status_code=201,
    response_model=None,
    openapi_extra=_BODY,
    name="fhir_post_care_team",
)
async def post_care_team(
    request: Request, uow: UoWDep, user: CurrentUser, now: Now
) -> FhirResponse:
    """A care team recorded elsewhere: its participants join (or, inactive, leave)."""
    return await _receive(request, uow, user, now, "CareTeam")
