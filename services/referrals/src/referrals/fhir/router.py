"""``/fhir``: the FHIR R4 (UK Core) facade of the front door, for EPRs.

- ``POST /fhir/ServiceRequest``: one referral (201, or 200 for a repeat of the same message).
- ``POST /fhir``: a transaction Bundle of ServiceRequest(s) with their Patient, Practitioner,
  PractitionerRole and Organization (all or nothing).
- ``GET /fhir/ServiceRequest/{id}``, ``GET /fhir/Task?focus=ServiceRequest/{id}`` and
  ``GET /fhir/Task/{id}``: the referral and what happened to it.
- ``GET /fhir/metadata``: the CapabilityStatement (no token needed: it holds no person data).

Every answer is ``application/fhir+json``, and every error an OperationOutcome (not
problem+json): :class:`FhirRoute` catches what the routes and their dependencies (the token
check included) raise. One exception: a body over the size limit is refused before any route
runs, by the service's middleware, as a 413 problem+json.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from carethread.auth import CurrentUser, Principal
from carethread.errors import NotFound, Problem
from carethread.fhir.outcome import ISSUE_CODE, FhirError, Issue, operation_outcome
from carethread.observability.logging import get_logger
from carethread.reference import load_geography
from carethread.service import UoWDep
from referrals.api.referrals import IdempotencyKey, Now, Referrer, Targets
from referrals.fhir import codes, inbound, outbound
from referrals.fhir import use_cases as fhir
from referrals.fhir.parse import parse_json, read_resource

log = get_logger(__name__)


class FhirResponse(JSONResponse):
    media_type = codes.FHIR_JSON


def outcome_response(
    status: int, issues: list[Issue], headers: dict[str, str] | None = None
) -> FhirResponse:
    return FhirResponse(operation_outcome(issues), status_code=status, headers=headers or None)


def _as_outcome(exc: Exception, request: Request) -> FhirResponse:
    if isinstance(exc, FhirError):
        return outcome_response(exc.status, exc.issues, exc.headers)
    if isinstance(exc, Problem):
        code = ISSUE_CODE.get(exc.status, "processing")
        return outcome_response(exc.status, [Issue(exc.detail or exc.title, code)], exc.headers)
    if isinstance(exc, RequestValidationError):
        issues = [
            Issue(f"{' '.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}", "invalid")
            for e in exc.errors()
        ]
        return outcome_response(400, issues)
    if isinstance(exc, StarletteHTTPException):
        code = ISSUE_CODE.get(exc.status_code, "processing")
        headers = dict(exc.headers) if exc.headers else None
        return outcome_response(exc.status_code, [Issue(str(exc.detail), code)], headers)
    if isinstance(exc, DBAPIError):
        log.error("database error", error=repr(exc), path=request.url.path)
        message = "The database could not complete the request; nothing was saved. Retry later."
        return outcome_response(503, [Issue(message, "transient")], {"Retry-After": "5"})
    log.exception("unhandled error", path=request.url.path)
    return outcome_response(
        500, [Issue("An unexpected error occurred; nothing was saved.", "exception")]
    )


class FhirRoute(APIRoute):
    """A route whose every error, its dependencies' included, is an OperationOutcome."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except StarletteHTTPException as exc:
                if exc.status_code == 413:  # the body limit's own signal: let it answer
                    raise
                return _as_outcome(exc, request)
            except Exception as exc:
                return _as_outcome(exc, request)

        return handle


router = APIRouter(
    prefix="/fhir",
    tags=["fhir"],
    route_class=FhirRoute,
    default_response_class=FhirResponse,
)
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {codes.FHIR_JSON: {"schema": {"type": "object"}}},
    }
}
JSON_TYPES = frozenset({codes.FHIR_JSON, "application/json"})


async def _body(request: Request) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media not in JSON_TYPES:
        raise FhirError(415, [Issue(f"Send {codes.FHIR_JSON}, not {media}.", "not-supported")])
    return parse_json(await request.body())


def _sender(user: Principal) -> inbound.Sender:
    return inbound.Sender(org=user.org, name=user.name or user.sub)


def _id(value: str, kind: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FhirError(404, [Issue(f"No {kind} {value}.", "not-found")]) from None


def _base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{router.prefix}"


@router.get("/metadata", summary="The CapabilityStatement", response_model=None)
async def metadata() -> FhirResponse:
    return FhirResponse(outbound.capability_statement(datetime.now(UTC)))


@router.post(
    "/ServiceRequest",
    summary="Send a referral as a UK Core ServiceRequest",
    status_code=201,
    response_model=None,
    openapi_extra=_BODY,
)
async def create_service_request(
    request: Request,
    uow: UoWDep,
    user: Referrer,
    now: Now,
    targets: Targets,
    idempotency_key: IdempotencyKey = None,
) -> FhirResponse:
    """The subject must be resolvable: contained (``#id``) or an NHS number identifier."""
    sr = read_resource(await _body(request), ServiceRequest)
    geography = load_geography()
    mapped = inbound.service_request(
        inbound.Located(sr, "ServiceRequest"),
        inbound.Scope(),
        geography=geography,
        sender=_sender(user),
    )
    received = await fhir.receive(
        uow,
        mapped,
        user,
        geography,
        now=now,
        targets=targets,
        key=fhir.idempotency_key(mapped, user, idempotency_key),
    )
    await uow.commit()
    referral = received.referral
    return FhirResponse(
        outbound.service_request(referral, mapped.identifier),
        status_code=200 if received.replayed else 201,
        headers={
            "Location": f"{router.prefix}/ServiceRequest/{referral.id}",
            "ETag": f'W/"{referral.version}"',
        },
    )


@router.post(
    "",
    summary="A transaction Bundle: ServiceRequest(s) with Patient, Practitioner, Organization",
    response_model=None,
    openapi_extra=_BODY,
)
async def transaction(
    request: Request,
    uow: UoWDep,
    user: Referrer,
    now: Now,
    targets: Targets,
    idempotency_key: IdempotencyKey = None,
) -> FhirResponse:
    """All or nothing: every ServiceRequest is mapped and checked before any is recorded."""
    bundle = read_resource(await _body(request), Bundle)
    tx = inbound.transaction(bundle)
    geography = load_geography()
    sender = _sender(user)
    mapped = [
        inbound.service_request(located, tx.scope, geography=geography, sender=sender)
        for _, located in tx.requests
    ]
    base = _base(request)
    created: dict[int, dict[str, Any]] = {}
    for n, ((index, _), one) in enumerate(zip(tx.requests, mapped, strict=True)):
        key = fhir.idempotency_key(one, user, idempotency_key, index=n, count=len(mapped))
        received = await fhir.receive(uow, one, user, geography, now=now, targets=targets, key=key)
        sr = outbound.service_request(received.referral, one.identifier)
        created[index] = outbound.created_entry(sr, replayed=received.replayed, base=base)
    await uow.commit()
    used_by = [f"ServiceRequest/{e['resource']['id']}" for e in created.values()]
    others = {i: outbound.used_entry(kind, used_by) for i, kind in tx.others}
    entries = [created.get(i) or others[i] for i in sorted({*created, *others})]
    return FhirResponse(outbound.transaction_response(entries))


@router.get("/ServiceRequest/{referral_id}", summary="A referral as a UK Core ServiceRequest")
async def read_service_request(referral_id: str, uow: UoWDep, user: CurrentUser) -> FhirResponse:
    referral, identifier = await fhir.read(uow, _id(referral_id, "ServiceRequest"), user)
    await uow.commit()
    return FhirResponse(
        outbound.service_request(referral, identifier),
        headers={"ETag": f'W/"{referral.version}"'},
    )


@router.get("/Task/{task_id}", summary="What happened to a referral, as a Task")
async def read_task(task_id: str, uow: UoWDep, user: CurrentUser) -> FhirResponse:
    referral, history = await fhir.read_with_history(uow, _id(task_id, "Task"), user)
    await uow.commit()
    return FhirResponse(
        outbound.task(referral, history), headers={"ETag": f'W/"{referral.version}"'}
    )


@router.get("/Task", summary="Search Tasks by focus=ServiceRequest/{id}")
async def search_tasks(
    request: Request, uow: UoWDep, user: CurrentUser, focus: str | None = None
) -> FhirResponse:
    """A searchset of the referral's one Task; empty when no referral has that id."""
    if not focus:
        raise FhirError(
            400,
            [Issue("Search Tasks with focus=ServiceRequest/<id>.", "required")],
        )
    kind, _, value = focus.rpartition("/")
    tasks = []
    try:
        referral_id = uuid.UUID(value) if kind in ("", "ServiceRequest") else None
    except ValueError:
        referral_id = None
    if referral_id is not None:
        try:
            referral, history = await fhir.read_with_history(uow, referral_id, user)
            tasks.append(outbound.task(referral, history))
        except NotFound:
            pass
    await uow.commit()
    return FhirResponse(outbound.searchset(tasks, base=_base(request), self_url=str(request.url)))


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unsupported(path: str, request: Request) -> FhirResponse:
    kind = path.split("/", 1)[0]
    known = kind in ("ServiceRequest", "Task", "metadata")
    what = f"{request.method} {router.prefix}/{path}"
    raise FhirError(
        405 if known else 404,
        [
            Issue(
                f"{what} is not supported here: this facade serves ServiceRequest (create, "
                "read), Task (read, search by focus), transactions and metadata.",
                "not-supported",
            )
        ],
    )
