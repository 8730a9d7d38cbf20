"""UK Core resources from systems that author elsewhere, as changes to the shared record.

Pure: validated resource JSON in, details or a new plan document out. Items taken from a
sender's resource get ids derived from (sender, resource, position), so posting the same
resource again changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from care_plans.domain.document import (
    Action,
    ActionStatus,
    CareTeamMember,
    Goal,
    GoalStatus,
    PlanDocument,
    PlanStatus,
)
from care_plans.fhir import codes
from carethread.fhir.outcome import invalid
from carethread.nhs import InvalidNhsNumber, normalise_nhs_number

IMPORTED = uuid.UUID("0b6f1c52-5a57-4d63-9b36-7e4c2f7a9d10")  # namespace of imported item ids
ACTIVE_TEAM = frozenset({"proposed", "active", "suspended"})


@dataclass(frozen=True)
class Sender:
    org: str | None
    name: str
    team: str | None


def _item_id(sender: Sender, kind: str, source: str, index: int) -> uuid.UUID:
    return uuid.uuid5(IMPORTED, f"{sender.org}|{kind}|{source}|{index}")


def source_id(data: dict[str, Any]) -> str:
    """What the sender calls the resource: its id, else its first identifier."""
    if data.get("id"):
        return str(data["id"])
    for ident in data.get("identifier") or []:
        if ident.get("value"):
            return f"{ident.get('system', '')}|{ident['value']}"
    return ""


def check_codes(data: dict[str, Any], kind: str) -> None:
    """The codes of required value sets, which the structural models let through."""
    for element, allowed in codes.REQUIRED_CODES.get(kind, {}).items():
        value = data.get(element)
        if value is not None and value not in allowed:
            raise invalid(
                f"{kind}.{element}",
                f"{value!r} is not one of {', '.join(sorted(allowed))}",
                code="code-invalid",
            )
    for i, activity in enumerate(data.get("activity") or [] if kind == "CarePlan" else []):
        value = (activity.get("detail") or {}).get("status")
        if value is not None and value not in codes.ACTIVITY_STATUSES:
            raise invalid(
                f"CarePlan.activity[{i}].detail.status",
                f"{value!r} is not an activity status",
                code="code-invalid",
            )


def _tail(reference: dict[str, Any] | None) -> str | None:
    if not reference:
        return None
    if reference.get("display"):
        return str(reference["display"])
    ref = reference.get("reference")
    return str(ref).rsplit("/", 1)[-1] if ref else None


def _ods(reference: dict[str, Any] | None) -> str | None:
    ident = (reference or {}).get("identifier") or {}
    if ident.get("system") == codes.ODS_CODE and ident.get("value"):
        return str(ident["value"])
    return None


def _text(concept: dict[str, Any] | None) -> str | None:
    if not concept:
        return None
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
    return None


def patient_details(data: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for i, ident in enumerate(data.get("identifier") or []):
        if ident.get("system") == codes.NHS_NUMBER:
            try:
                details["nhs_number"] = normalise_nhs_number(str(ident.get("value", "")))
            except InvalidNhsNumber as e:
                raise invalid(f"Patient.identifier[{i}].value", str(e)) from None
    names = data.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    if not name or not name.get("family") or not name.get("given"):
        raise invalid("Patient.name", "a Patient needs a name with a family and a given name")
    details["given_name"] = str(name["given"][0])
    details["family_name"] = str(name["family"])
    if data.get("birthDate"):
        details["birth_date"] = date.fromisoformat(str(data["birthDate"])[:10])
    if data.get("gender"):
        details["sex"] = str(data["gender"])
    addresses = data.get("address") or []
    postcode = next((a["postalCode"] for a in addresses if a.get("postalCode")), None)
    if postcode:
        details["postcode"] = str(postcode)[:10]
    for gp in data.get("generalPractitioner") or []:
        code = _ods(gp)
        if code:
            details["gp_practice_code"] = code
    details.update(_how_to_reach(data))
    return details


def _how_to_reach(data: dict[str, Any]) -> dict[str, Any]:
    """Phone, email, preferred language and whether an interpreter is needed."""
    details: dict[str, Any] = {}
    for telecom in data.get("telecom") or []:
        if telecom.get("system") == "phone" and telecom.get("value"):
            details["phone"] = str(telecom["value"])[:50]
        if telecom.get("system") == "email" and telecom.get("value"):
            details["email"] = str(telecom["value"])[:200]
    for c in data.get("communication") or []:
        codings = (c.get("language") or {}).get("coding") or []
        if codings and (c.get("preferred") or "preferred_language" not in details):
            details["preferred_language"] = str(codings[0].get("code", ""))[:20] or None
    for ext in data.get("extension") or []:
        if ext.get("url") == codes.INTERPRETER_REQUIRED:
            details["interpreter_needed"] = bool(ext.get("valueBoolean"))
    return details


def _sender_member(
    doc: PlanDocument, sender: Sender, author: str | None
) -> tuple[CareTeamMember, bool]:
    """The sender's member of the care team (found, or new: True)."""
    for m in doc.care_team:
        if sender.team is not None and m.team == sender.team:
            return m, False
        if sender.team is None and m.organisation == sender.org and m.team is None:
            return m, False
    member = CareTeamMember(
        id=_item_id(sender, "member", sender.team or "", 0),
        name=author or sender.name,
        role="Plan authored elsewhere",
        organisation=sender.org if sender.org and len(sender.org) >= 3 else None,
        team=sender.team,
    )
    return member, True


def _due(detail: dict[str, Any]) -> date | None:
    end = (detail.get("scheduledPeriod") or {}).get("end")
    return date.fromisoformat(str(end)[:10]) if end else None


# Goal.lifecycleStatus (and achievementStatus, when completed) -> our goal status.
GOAL_STATUS_IN = {
    "proposed": GoalStatus.PROPOSED,
    "planned": GoalStatus.PROPOSED,
    "accepted": GoalStatus.PROPOSED,
    "active": GoalStatus.IN_PROGRESS,
    "on-hold": GoalStatus.IN_PROGRESS,
    "cancelled": GoalStatus.CANCELLED,
    "rejected": GoalStatus.CANCELLED,
}
GOAL_PRIORITY_IN = {"high-priority": 9, "medium-priority": 6, "low-priority": 3}


def _goal_status(goal: dict[str, Any]) -> GoalStatus:
    lifecycle = goal.get("lifecycleStatus", "")
    if lifecycle == "completed":
        achievement = {
            c.get("code") for c in (goal.get("achievementStatus") or {}).get("coding") or []
        }
        return GoalStatus.NOT_ACHIEVED if "not-achieved" in achievement else GoalStatus.ACHIEVED
    return GOAL_STATUS_IN.get(lifecycle, GoalStatus.PROPOSED)


def _goal(
    reference: dict[str, Any], contained: dict[str, dict[str, Any]], goal_id: uuid.UUID
) -> Goal:
    """A goal the CarePlan refers to: whole when it is contained in the CarePlan, else in
    the words the reference shows (or, without any, saying where it is kept)."""
    ref = str(reference.get("reference") or "")
    found = contained.get(ref[1:]) if ref.startswith("#") else None
    if found is None:
        words = reference.get("display") or f"Goal {ref or '(no reference)'}, kept by the sender"
        return Goal(id=goal_id, description=str(words)[:2000])
    due = next((t.get("dueDate") for t in found.get("target") or [] if t.get("dueDate")), None)
    priority = next(
        (c.get("code") for c in (found.get("priority") or {}).get("coding") or []), None
    )
    return Goal(
        id=goal_id,
        description=(_text(found.get("description")) or f"Goal {ref[1:]}")[:2000],
        status=_goal_status(found),
        target_date=date.fromisoformat(str(due)[:10]) if due else None,
        importance=GOAL_PRIORITY_IN.get(str(priority)),
    )


def _goals_of(
    data: dict[str, Any], current: PlanDocument, sender: Sender
) -> tuple[list[Goal], dict[str, uuid.UUID]]:
    """The plan's goals with those the CarePlan refers to (in ``goal`` or in an activity's
    ``detail.goal``) added or brought up to date, and the id each reference became."""
    source = source_id(data)
    contained = {
        str(r.get("id")): r for r in data.get("contained") or [] if r.get("resourceType") == "Goal"
    }
    references = list(data.get("goal") or [])
    for activity in data.get("activity") or []:
        references += (activity.get("detail") or {}).get("goal") or []
    goals = {g.id: g for g in current.goals}
    ids: dict[str, uuid.UUID] = {}
    for reference in references:
        ref = str(reference.get("reference") or reference.get("display") or "")
        if not ref or ref in ids:
            continue
        ids[ref] = goal_id = uuid.uuid5(IMPORTED, f"{sender.org}|Goal|{source}|{ref}")
        imported = _goal(reference, contained, goal_id)
        previous = goals.get(goal_id)
        # What the sender says of its goal wins; the links made here (the need) stay.
        goals[goal_id] = imported.model_copy(
            update={"need_id": previous.need_id if previous else None}
        )
    return list(goals.values()), ids


def plan_from_care_plan(
    data: dict[str, Any], current: PlanDocument, sender: Sender
) -> tuple[PlanDocument, dict[uuid.UUID, int]]:
    """The plan with the CarePlan's goals as goals and its activities as actions (owned by
    the sender, linked to their goals), and which activity each action came from."""
    source = source_id(data)
    owner, is_new = _sender_member(current, sender, _tail(data.get("author")))
    team = [*current.care_team, owner] if is_new else list(current.care_team)
    goals, goal_ids = _goals_of(data, current, sender)
    actions = {a.id: a for a in current.actions}
    came_from: dict[uuid.UUID, int] = {}
    for i, activity in enumerate(data.get("activity") or []):
        detail = activity.get("detail") or {}
        words = (
            detail.get("description")
            or _text(detail.get("code"))
            or _tail(activity.get("reference"))
            or f"Activity {i + 1} of {source or 'an imported plan'}"
        )
        action_id = _item_id(sender, "CarePlan", source, i)
        previous = actions.get(action_id)
        linked = next(
            (
                goal_ids[ref]
                for g in detail.get("goal") or []
                if (ref := str(g.get("reference") or g.get("display") or "")) in goal_ids
            ),
            previous.goal_id if previous else None,
        )
        actions[action_id] = Action(
            id=action_id,
            goal_id=linked,
            description=str(words)[:2000],
            owner=previous.owner if previous else owner.id,
            due_date=_due(detail),
            status=ActionStatus(codes.ACTIVITY_STATUS_IN.get(detail.get("status", ""), "planned")),
        )
        came_from[action_id] = i
    status = data.get("status")
    plan_status = PlanStatus(status) if status in codes.PLAN_STATUS else current.status
    return (
        current.model_copy(
            update={
                "care_team": team,
                "goals": goals,
                "actions": list(actions.values()),
                "status": plan_status,
            }
        ),
        came_from,
    )


def plan_from_care_team(
    data: dict[str, Any], current: PlanDocument, sender: Sender
) -> PlanDocument:
    """Participants of an active CareTeam join the care team; of an inactive one, leave."""
    source = source_id(data)
    managing = (data.get("managingOrganization") or [None])[0]
    incoming = []
    for i, p in enumerate(data.get("participant") or []):
        on_behalf = p.get("onBehalfOf") or managing
        roles = [_text(r) for r in p.get("role") or []]
        incoming.append(
            CareTeamMember(
                id=_item_id(sender, "CareTeam", source, i),
                name=(_tail(p.get("member")) or f"Participant {i + 1}")[:200],
                role=next((r for r in roles if r), "")[:200],
                organisation=_ods(on_behalf),
                organisation_name=(_tail(on_behalf) or "")[:200],
            )
        )
    ids = {m.id for m in incoming}
    kept = [m for m in current.care_team if m.id not in ids]
    if data.get("status", "active") in ACTIVE_TEAM:
        existing = {m.id: m for m in current.care_team}
        merged = [existing.get(m.id, m) for m in incoming]
        return current.model_copy(update={"care_team": kept + merged})
    return current.model_copy(update={"care_team": kept})
