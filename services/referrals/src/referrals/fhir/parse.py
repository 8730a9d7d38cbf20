"""Reading a FHIR JSON body: parse it, then check its structure with the R4B models of
``fhir.resources`` (they accept every official UK Core R4 example).

Pure: bytes in, a validated resource or a :class:`FhirError` out. Unparseable JSON is 400;
anything parseable but not a valid resource of the expected type is 422 with the FHIRPath of
each bad element (an unknown element, a malformed date, a list where an object belongs ...).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.domainresource import DomainResource
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from carethread.fhir.outcome import FhirError, Issue, invalid, validation_issues

R = TypeVar("R", bound=Resource)
MAX_DEPTH = 64  # contained in contained in a bundle ...: far more than any real message


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise FhirError(400, [Issue("The request has no body: send a FHIR JSON resource.")])
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FhirError(400, [Issue(f"The body is not valid JSON: {e}", "structure")]) from None


def model_class(resource_type: object) -> type[Resource] | None:
    """The R4B model for a concrete resource type name, else None."""
    if not isinstance(resource_type, str) or not resource_type.isalpha():
        return None
    try:
        klass = get_fhir_model_class(resource_type)
    except (KeyError, ValueError):
        return None
    if not issubclass(klass, Resource) or klass in (Resource, DomainResource):
        return None
    return klass


def _check_nested(data: dict[str, Any], path: str, depth: int = 0) -> None:
    """Every contained resource and Bundle entry resource names a resource type we know.

    fhir.resources raises a bare KeyError for an unknown type deep inside a resource; this
    finds it first, so the answer names where it is.
    """
    if depth > MAX_DEPTH:
        raise invalid(path, "resources are nested too deeply", code="too-costly")
    nested: list[tuple[object, str]] = []
    contained = data.get("contained")
    if isinstance(contained, list):
        nested += [(r, f"{path}.contained[{i}]") for i, r in enumerate(contained)]
    entries = data.get("entry") if data.get("resourceType") == "Bundle" else None
    if isinstance(entries, list):
        nested += [
            (e["resource"], f"{path}.entry[{i}].resource")
            for i, e in enumerate(entries)
            if isinstance(e, dict) and "resource" in e
        ]
    for resource, where in nested:
        if not isinstance(resource, dict):
            raise invalid(where, "expected a resource (a JSON object)", code="structure")
        kind = resource.get("resourceType")
        if kind is None:
            raise invalid(f"{where}.resourceType", "this element is required", code="required")
        if model_class(kind) is None:
            raise invalid(
                f"{where}.resourceType", f"unknown resource type {kind!r}", code="not-supported"
            )
        _check_nested(resource, where, depth + 1)


def read_resource(data: Any, expected: type[R]) -> R:
    """``data`` as a valid ``expected`` resource, else FhirError naming each bad element."""
    name = expected.__name__
    if not isinstance(data, dict):
        raise invalid(None, f"expected a {name} resource (a JSON object)", code="structure")
    kind = data.get("resourceType")
    if kind is None:
        raise invalid("resourceType", "this element is required", code="required")
    if kind != name:
        known = "a resource type" if model_class(kind) else "not a resource type this server knows"
        raise invalid(
            "resourceType",
            f"expected a {name}, got {kind!r} ({known})",
            code="not-supported" if model_class(kind) else "structure",
        )
    _check_nested(data, name)
    try:
        resource = expected.model_validate(data)
    except ValidationError as e:
        raise FhirError(422, validation_issues(e.errors(), name)) from None
    except (KeyError, ValueError, TypeError) as e:  # fhir.resources' own, outside pydantic
        raise invalid(name, f"not a valid {name}: {e}", code="structure") from None
    return resource
