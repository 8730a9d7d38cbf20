"""``/fhir``: measures and indicators for systems that speak FHIR R4.

``POST QuestionnaireResponse`` records a measure (scored here, like the JSON API);
``GET Observation?subject=Patient/{id}`` gives a person's scores (needs a relationship,
audited); ``GET MeasureReport?measure={indicator id}`` an indicator for analysts, with
``period`` and ``by`` as in the JSON API. Every answer is ``application/fhir+json`` and
every error an OperationOutcome.
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
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from carethread.auth import CurrentUser
from carethread.errors import InvalidInput, Problem
from carethread.fhir.outcome import ISSUE_CODE, FhirError, Issue, fhirpath, operation_outcome
from carethread.observability.logging import get_logger
from carethread.service import UoWDep
from outcomes import reporting, use_cases
from outcomes.api.dependencies import Analyst, IdempotencyKey, Now, Settings
from outcomes.api.indicators import policy
from outcomes.fhir import codes, inbound, outbound

log = get_logger(__name__)


class FhirResponse(JSONResponse):
    media_type = codes.FHIR_JSON


def _as_outcome(exc: Exception, request: Request) -> FhirResponse:
    if isinstance(exc, FhirError):
        return FhirResponse(operation_outcome(exc.issues), status_code=exc.status)
    if isinstance(exc, Problem):
        issue = Issue(exc.detail or exc.title, ISSUE_CODE.get(exc.status, "processing"))
        return FhirResponse(operation_outcome([issue]), status_code=exc.status)
    if isinstance(exc, RequestValidationError):
        issues = [
            Issue(f"{' '.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}")
            for e in exc.errors()
        ]
        return FhirResponse(operation_outcome(issues), status_code=400)
    if isinstance(exc, DBAPIError):
        log.error("database error", error=repr(exc), path=request.url.path)
        issue = Issue("The database could not complete the request.", "transient")
        return FhirResponse(operation_outcome([issue]), status_code=503)
    log.exception("unhandled error", path=request.url.path)
    issue = Issue("An unexpected error occurred; nothing was saved.", "exception")
    return FhirResponse(operation_outcome([issue]), status_code=500)


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


async def _questionnaire_response(request: Request) -> dict[str, Any]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media not in (codes.FHIR_JSON, "application/json"):
        raise FhirError(415, [Issue(f"Send {codes.FHIR_JSON}.", "not-supported")])
    try:
        data = json.loads(await request.body())
    except ValueError as e:
        raise FhirError(400, [Issue(f"The body is not JSON: {e}", "structure")]) from None
    if not isinstance(data, dict) or data.get("resourceType") != "QuestionnaireResponse":
        raise FhirError(
            422, [Issue("Expected a QuestionnaireResponse.", "structure", ("resourceType",))]
        )
    try:
        QuestionnaireResponse.model_validate(data)
    except ValidationError as e:
        issues = [
            Issue(err.get("msg", ""), "structure", (fhirpath(inbound.ROOT, err.get("loc", ())),))
            for err in e.errors()
        ]
        raise FhirError(422, issues) from None
    return data


@router.post(
    "/QuestionnaireResponse",
    status_code=201,
    response_model=None,
    openapi_extra=_BODY,
    name="fhir_post_questionnaire_response",
)
async def post_questionnaire_response(
    request: Request,
    uow: UoWDep,
    user: CurrentUser,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> FhirResponse:
    data = await _questionnaire_response(request)
    try:
        body = inbound.measure_request(data)
    except ValidationError as e:
        issues = [Issue(err.get("msg", ""), "invalid", (inbound.ROOT,)) for err in e.errors()]
        raise FhirError(422, issues) from None
    try:
        recorded = await use_cases.record_measure(
            uow, body, user, now=now, idempotency_key=idempotency_key
        )
    except InvalidInput as e:
        raise inbound.as_fhir_error(e, data) from None
    await uow.commit()
    row = recorded.row
    return FhirResponse(
        outbound.questionnaire_response(row),
        status_code=200 if recorded.replayed else 201,
        headers={"Location": f"{_base(request)}/QuestionnaireResponse/{row.id}"},
    )


@router.get("/Observation", response_model=None, name="fhir_search_observation")
async def search_observation(
    request: Request,
    uow: UoWDep,
    user: CurrentUser,
    subject: Annotated[str, Query(description="Patient/{id}")],
) -> FhirResponse:
    try:
        person_id = uuid.UUID(subject.removeprefix("Patient/"))
    except ValueError:
        raise FhirError(400, [Issue("Search by subject=Patient/{id}.")]) from None
    results = await use_cases.person_measures(uow, person_id, user)
    await uow.commit()
    found = [o for row in results.rows for o in outbound.observations(row)]
    return FhirResponse(outbound.searchset(_base(request), found))


@router.get("/MeasureReport", response_model=None, name="fhir_search_measure_report")
async def search_measure_report(
    request: Request,
    uow: UoWDep,
    user: Analyst,
    settings: Settings,
    now: Now,
    measure: Annotated[str, Query(description="an indicator id, or its Measure canonical URL")],
    period: str | None = None,
    by: str | None = None,
) -> FhirResponse:
    ind = reporting.indicator(measure.removeprefix(codes.MEASURE))
    dims, when = reporting.dimensions(by), reporting.period(period)
    computed = await reporting.compute(uow, ind, dims, when, policy(settings), today=now.date())
    report = outbound.measure_report(computed, now.isoformat())
    return FhirResponse(outbound.searchset(_base(request), [report]))
