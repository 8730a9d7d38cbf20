"""The record as UK Core resources: Patient, CarePlan, Goal, CareTeam, searchset Bundles.

The CareTeam of a person's plan has the plan's id (one care team per plan); each Goal has
the goal's id in the plan document.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from care_plans.domain.changes import is_overdue
from care_plans.domain.document import CareTeamMember, Goal, PlanDocument
from care_plans.fhir import codes
from care_plans.store.tables import CarePlanRow, PersonRow


def _meta(
    profile: str | None, version: int | None = None, updated: datetime | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if version is not None:
        meta["versionId"] = str(version)
    if updated is not None:
        meta["lastUpdated"] = updated.isoformat()
    if profile:
        meta["profile"] = [codes.PROFILE + profile]
    return meta


def _subject(person: PersonRow) -> dict[str, Any]:
    return {
        "reference": f"Patient/{person.id}",
        "display": f"{person.given_name} {person.family_name.upper()}",
    }


def _organisation(code: str | None, name: str | None) -> dict[str, Any] | None:
    if not code and not name:
        return None
    out: dict[str, Any] = {}
    if code:
        out["identifier"] = {"system": codes.ODS_CODE, "value": code}
    if name:
        out["display"] = name
    return out


def patient(person: PersonRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(person.id),
        "meta": _meta("Patient", updated=person.updated_at),
        "name": [{"use": "official", "family": person.family_name, "given": [person.given_name]}],
    }
    if person.nhs_number:
        out["identifier"] = [{"system": codes.NHS_NUMBER, "value": person.nhs_number}]
    if person.sex:
        out["gender"] = person.sex
    if person.birth_date:
        out["birthDate"] = person.birth_date.isoformat()
    telecom = []
    if person.phone:
        telecom.append({"system": "phone", "value": person.phone})
    if person.email:
        telecom.append({"system": "email", "value": person.email})
    if telecom:
        out["telecom"] = telecom
    if person.postcode:
        out["address"] = [{"postalCode": person.postcode}]
    if person.gp_practice_code:
        out["generalPractitioner"] = [_organisation(person.gp_practice_code, None)]
    if person.preferred_language:
        out["communication"] = [
            {
                "language": {
                    "coding": [{"system": codes.LANGUAGE, "code": person.preferred_language}]
                },
                "preferred": True,
            }
        ]
    if person.interpreter_needed:
        out["extension"] = [{"url": codes.INTERPRETER_REQUIRED, "valueBoolean": True}]
    return out


def _notes(doc: PlanDocument) -> list[dict[str, str]]:
    about = doc.about_me
    notes = [
        ("What matters to me", about.what_matters_to_me),
        ("My wellness", about.my_wellness),
        ("How and when to support me", about.how_and_when_to_support_me),
        ("Please do", "; ".join(about.please_do)),
        ("Please don't", "; ".join(about.please_dont)),
        ("Strengths", "; ".join(doc.strengths)),
        ("Needs", "; ".join(n.description for n in doc.needs)),
        ("Contingency plan", doc.contingency_plan.what_should_happen),
        ("Safety plan", doc.contingency_plan.safety_plan),
    ]
    return [{"text": f"{heading}: {text}"} for heading, text in notes if text]


def _member_name(doc: PlanDocument, member_id: Any) -> str | None:
    member = doc.member(member_id)
    return member.name if member else None


def care_plan(plan: CarePlanRow, person: PersonRow, today: date) -> dict[str, Any]:
    doc = PlanDocument.model_validate(plan.document)
    activities = []
    for a in doc.actions:
        detail: dict[str, Any] = {
            "kind": "Task",
            "status": codes.ACTIVITY_STATUS[a.status.value],
            "description": a.description,
        }
        if a.goal_id:
            detail["goal"] = [{"reference": f"Goal/{a.goal_id}"}]
        if a.due_date:
            detail["scheduledPeriod"] = {"end": a.due_date.isoformat()}
        owner = doc.member(a.owner)
        if owner:
            detail["performer"] = [{"display": owner.name}]
        if is_overdue(a, today):
            detail["statusReason"] = {"text": "Overdue"}
        activities.append({"detail": detail})
    out: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(plan.id),
        "meta": _meta("CarePlan", plan.version, plan.updated_at),
        "identifier": [{"system": codes.CARE_PLAN_ID, "value": str(plan.id)}],
        "status": codes.PLAN_STATUS[doc.status.value],
        "intent": "plan",
        "category": [{"text": "Personalised care and support plan"}],
        "title": "Personalised care and support plan",
        "subject": _subject(person),
        "created": plan.created_at.date().isoformat(),
        "careTeam": [{"reference": f"CareTeam/{plan.id}"}],
        "goal": [{"reference": f"Goal/{g.id}"} for g in doc.goals],
        "activity": activities,
    }
    if doc.story:
        out["description"] = doc.story
    key_worker = doc.key_worker()
    if key_worker:
        out["author"] = {"display": key_worker.name}
    if doc.review_date:
        out["period"] = {"start": plan.created_at.date().isoformat()}
    notes = _notes(doc)
    if doc.review_date:
        who = _member_name(doc, doc.review_responsible) if doc.review_responsible else None
        by = f" by {who}" if who else ""
        notes.append({"text": f"Review: {doc.review_date.isoformat()}{by}"})
    if notes:
        out["note"] = notes
    return out


def _priority(importance: int | None) -> dict[str, Any] | None:
    if importance is None:
        return None
    code = (
        "high-priority"
        if importance >= 7
        else "medium-priority"
        if importance >= 4
        else "low-priority"
    )
    return {"coding": [{"system": codes.GOAL_PRIORITY, "code": code}]}


def goal(g: Goal, person: PersonRow) -> dict[str, Any]:
    lifecycle, achievement = codes.GOAL_STATUS[g.status.value]
    out: dict[str, Any] = {
        "resourceType": "Goal",
        "id": str(g.id),
        "lifecycleStatus": lifecycle,
        "description": {"text": g.description},
        "subject": _subject(person),
    }
    if achievement:
        out["achievementStatus"] = {
            "coding": [{"system": codes.GOAL_ACHIEVEMENT, "code": achievement}]
        }
    priority = _priority(g.importance)
    if priority:
        out["priority"] = priority
    if g.target_date:
        out["target"] = [{"dueDate": g.target_date.isoformat()}]
    if g.outcome_measures:
        out["note"] = [{"text": "Outcome measures: " + ", ".join(g.outcome_measures)}]
    return out


def _participant(m: CareTeamMember) -> dict[str, Any]:
    roles = [{"text": m.role}] if m.role else []
    if m.key_worker:
        roles.append({"text": "Key worker"})
    out: dict[str, Any] = {"member": {"display": m.name}}
    if roles:
        out["role"] = roles
    on_behalf = _organisation(m.organisation, m.organisation_name or None)
    if on_behalf:
        out["onBehalfOf"] = on_behalf
    return out


def care_team(plan: CarePlanRow, person: PersonRow) -> dict[str, Any]:
    doc = PlanDocument.model_validate(plan.document)
    return {
        "resourceType": "CareTeam",
        "id": str(plan.id),
        "meta": _meta("CareTeam", plan.version, plan.updated_at),
        "status": "active",
        "name": f"Care team of {person.given_name} {person.family_name}",
        "subject": _subject(person),
        "participant": [_participant(m) for m in doc.care_team],
    }


def searchset(base: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }
