"""Rows as the JSON the API returns."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from fastapi.responses import JSONResponse

from care_plans.api.dependencies import etag
from care_plans.domain.document import OPEN_ACTION
from care_plans.store.tables import CarePlanRow, PersonAliasRow, PersonRow

OPEN_STATUSES = frozenset(s.value for s in OPEN_ACTION)


def _overdue(action: dict[str, Any], today: date) -> bool:
    # The stored document was validated when it was saved: read it as it is (a plan read
    # is the hottest path). The same rule as ``is_overdue``, on the JSON form.
    due = action.get("due_date")
    return action.get("status") in OPEN_STATUSES and due is not None and due < today.isoformat()


Kept = Iterable[tuple[PersonAliasRow, CarePlanRow]]


def merged_record(alias: PersonAliasRow, plan: CarePlanRow) -> dict[str, Any]:
    return {
        "person_id": str(alias.merged_person_id),
        "plan_id": str(plan.id),
        "plan_version": plan.version,
        "merged_at": alias.merged_at.isoformat(),
        "combined_at": alias.combined_at.isoformat() if alias.combined_at else None,
        "combined_by": alias.combined_by,
    }


def plan_body(
    plan: CarePlanRow, relationship: str, today: date, to_combine: Kept = ()
) -> dict[str, Any]:
    body = dict(plan.document)  # a full document: every version is saved whole
    body["actions"] = [{**a, "overdue": _overdue(a, today)} for a in body.get("actions", [])]
    body["meta"] = {
        "plan_id": str(plan.id),
        "person_id": str(plan.person_id),
        "version": plan.version,
        "created_at": plan.created_at.isoformat(),
        "updated_at": plan.updated_at.isoformat(),
        "updated_by": plan.updated_by,
        "updated_by_org": plan.updated_by_org,
        "relationship": relationship,
        "records_to_combine": [merged_record(a, p) for a, p in to_combine],
    }
    return body


def plan_response(
    plan: CarePlanRow,
    relationship: str,
    today: date,
    status_code: int = 200,
    to_combine: Kept = (),
) -> JSONResponse:
    return JSONResponse(
        plan_body(plan, relationship, today, to_combine),
        status_code=status_code,
        headers={"ETag": etag(plan.version), "Cache-Control": "no-store"},
    )


def person_body(
    person: PersonRow, plan: CarePlanRow, relationship: str, to_combine: Kept = ()
) -> dict[str, Any]:
    return {
        "id": person.id,
        "nhs_number": person.nhs_number,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "birth_date": person.birth_date,
        "sex": person.sex,
        "postcode": person.postcode,
        "gp_practice_code": person.gp_practice_code,
        "neighbourhood": person.neighbourhood,
        "borough": person.borough,
        "preferred_language": person.preferred_language,
        "interpreter_needed": person.interpreter_needed,
        "phone": person.phone,
        "email": person.email,
        "recorded_from": person.recorded_from,
        "created_at": person.created_at,
        "updated_at": person.updated_at,
        "about_me": plan.document.get("about_me", {}),
        "plan_id": plan.id,
        "plan_version": plan.version,
        "relationship": relationship,
        "records_to_combine": [merged_record(a, p) for a, p in to_combine],
    }
