"""RFC 9457 problem details for every error a service returns.

Routes raise :class:`Problem` subclasses; validation errors become 422 with the path of
each bad field; oversized bodies 413 (FastAPI's ``max_body_size``, reshaped by the service
middleware); a database that cannot be reached 503. Anything unexpected is a 500 problem
that reveals nothing of the internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from carethread.observability.logging import get_logger

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://carethread.example/problems/"
log = get_logger(__name__)


class Problem(Exception):
    status = 500
    title = "Internal Server Error"
    slug = "internal-error"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions
        self.headers: dict[str, str] = {}


class BadRequest(Problem):
    status, title, slug = 400, "Bad Request", "bad-request"


class Unauthorized(Problem):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not Found", "not-found"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(Problem):
    status, title, slug = 412, "Precondition Failed", "precondition-failed"


class InvalidInput(Problem):
    """422 raised by use cases for rules the request schema cannot express."""

    status, title, slug = 422, "Unprocessable Content", "validation-error"

    def __init__(self, detail: str, *, errors: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(detail, errors=list(errors))

    @classmethod
    def at(cls, field: str, message: str) -> InvalidInput:
        """422 for one field of the body, named by its dotted path (``person.nhs_number``)."""
        error = {
            "field": field,
            "in": "body",
            "pointer": "#/" + field.replace(".", "/"),
            "message": message,
            "type": "value_error",
        }
        return cls(message, errors=[error])


class ServiceUnavailable(Problem):
    status, title, slug = 503, "Service Unavailable", "service-unavailable"


def problem_response(
    status: int,
    title: str,
    *,
    slug: str,
    detail: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic errors as ``{field, pointer, message, type}`` with the body prefix dropped."""
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        where = loc[0] if loc and loc[0] in ("body", "query", "path", "header") else None
        path = loc[1:] if where else loc
        out.append(
            {
                "field": ".".join(path) if path else (where or ""),
                "in": where or "body",
                "pointer": "#/" + "/".join(path),
                "message": e.get("msg", ""),
                "type": e.get("type", ""),
            }
        )
    return out


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status,
        exc.title,
        slug=exc.slug,
        detail=exc.detail,
        instance=request.url.path,
        headers=exc.headers or None,
        **exc.extensions,
    )


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc.errors())
    names = ", ".join(sorted({e["field"] for e in errors if e["field"]}))
    return problem_response(
        422,
        "Unprocessable Content",
        slug="validation-error",
        detail=f"Invalid request: {names}" if names else "Invalid request",
        instance=request.url.path,
        errors=errors,
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large"}
    return problem_response(
        exc.status_code,
        titles.get(exc.status_code, "Error"),
        slug=f"http-{exc.status_code}",
        detail=str(exc.detail),
        instance=request.url.path,
        headers=getattr(exc, "headers", None),
    )


def _unavailable(request: Request, slug: str, detail: str, retry_after: int) -> JSONResponse:
    return problem_response(
        503,
        "Service Unavailable",
        slug=slug,
        detail=detail,
        instance=request.url.path,
        headers={"Retry-After": str(retry_after)},
    )


async def _on_database_down(request: Request, exc: Exception) -> JSONResponse:
    log.error("database error", error=repr(exc), path=request.url.path)
    detail = "The database could not complete the request; nothing was saved. Retry later."
    return _unavailable(request, "database-unavailable", detail, retry_after=5)


async def _on_conflict(request: Request, exc: Exception) -> JSONResponse:
    # A uniqueness or reference rule the database enforced and the code did not check first:
    # the request clashes with what is stored. Retrying the same request will not help, so
    # not a 503; logged, since a check before the write would give a better answer.
    log.error("integrity error", error=repr(exc), path=request.url.path)
    return problem_response(
        409,
        "Conflict",
        slug="conflict",
        detail="The request conflicts with data already stored (an identifier already in "
        "use, or a reference to something that does not exist); nothing was saved.",
        instance=request.url.path,
    )


async def _on_pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    # Every database connection stayed busy for the pool's whole timeout: overload, not a
    # fault. Clients (and load balancers) are told to come back shortly.
    log.warning("no database connection free", error=repr(exc), path=request.url.path)
    detail = "The service is too busy to take this request now; nothing was saved. Retry shortly."
    return _unavailable(request, "service-busy", detail, retry_after=1)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path)
    return problem_response(
        500,
        "Internal Server Error",
        slug="internal-error",
        detail="An unexpected error occurred; nothing was saved.",
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(IntegrityError, _on_conflict)
    app.add_exception_handler(OperationalError, _on_database_down)
    app.add_exception_handler(DBAPIError, _on_database_down)
    app.add_exception_handler(PoolTimeout, _on_pool_exhausted)
    app.add_exception_handler(Exception, _on_unexpected)
