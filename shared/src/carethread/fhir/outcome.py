"""OperationOutcome: how a FHIR facade says no, naming the FHIRPath of what is wrong.

Pure: no framework. Each service's FHIR router turns :class:`FhirError` (and the library's
problems) into an ``application/fhir+json`` OperationOutcome response.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The OperationOutcome issue type for each HTTP status the facade answers with.
ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "invalid",
    428: "required",
    500: "exception",
    503: "transient",
}


@dataclass(frozen=True)
class Issue:
    diagnostics: str
    code: str = "invalid"
    expression: tuple[str, ...] = ()
    severity: str = "error"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            out["expression"] = list(self.expression)
        return out


class FhirError(Exception):
    """A refusal: the HTTP status and the issues to report."""

    def __init__(
        self, status: int, issues: Sequence[Issue], *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__("; ".join(i.diagnostics for i in issues))
        self.status = status
        self.issues = list(issues)
        self.headers = dict(headers or {})


def invalid(expression: str | None, message: str, *, code: str = "invalid") -> FhirError:
    """422: one thing in the resource is wrong, at ``expression``."""
    return FhirError(422, [Issue(message, code, (expression,) if expression else ())])


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.to_json() for i in issues]}


def fhirpath(root: str, loc: Sequence[str | int]) -> str:
    """``("entry", 0, "resource", "birthDate")`` under ``Bundle`` → ``Bundle.entry[0].resource
    .birthDate`` (fhir.resources names ``resourceType`` ``resource_type`` in its errors)."""
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += "." + ("resourceType" if part == "resource_type" else str(part))
    return out


def _message(error: Mapping[str, Any]) -> tuple[str, str]:
    kind = str(error.get("type", ""))
    loc = error.get("loc", ())
    if kind == "extra_forbidden":
        name = loc[-1] if loc else "?"
        return "structure", f"unknown element '{name}'"
    if kind.endswith("missing"):
        return "required", "this element is required"
    if kind == "json_invalid":
        got = type(error.get("input")).__name__
        return "structure", f"expected a JSON object here, not a {got}"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return "value", message


def validation_issues(errors: Iterable[Mapping[str, Any]], root: str) -> list[Issue]:
    """Pydantic (fhir.resources) errors as issues whose expression is the FHIRPath."""
    issues = []
    for error in errors:
        code, message = _message(error)
        issues.append(Issue(message, code, (fhirpath(root, tuple(error.get("loc", ()))),)))
    return issues
