"""OperationOutcome: how the FHIR facade says no, naming the FHIRPath of what is wrong."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    415: "not-supported",
    422: "invalid",
    500: "exception",
    503: "transient",
}


@dataclass(frozen=True)
class Issue:
    diagnostics: str
    code: str = "invalid"
    expression: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": "error",
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            out["expression"] = list(self.expression)
        return out


class FhirError(Exception):
    def __init__(self, status: int, issues: Sequence[Issue]) -> None:
        super().__init__("; ".join(i.diagnostics for i in issues))
        self.status = status
        self.issues = list(issues)


def invalid(expression: str | None, message: str) -> FhirError:
    return FhirError(422, [Issue(message, "invalid", (expression,) if expression else ())])


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.to_json() for i in issues]}


def fhirpath(root: str, loc: Sequence[str | int]) -> str:
    out = root
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
