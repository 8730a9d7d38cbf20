"""The facade's use cases: find the person, check the relationship (audited), map."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from care_plans import records, use_cases
from care_plans.domain.document import PlanDocument
from care_plans.fhir import codes, inbound
from care_plans.records import Editor
from care_plans.store import plans as store
from care_plans.store.tables import CarePlanRow, FhirAliasRow, PersonRow
from carethread.auth import Principal
from carethread.db import UnitOfWork
from carethread.errors import InvalidInput, NotFound
from carethread.fhir.outcome import FhirError, Issue, invalid


@dataclass(frozen=True)
class Record:
    person: PersonRow
    plan: CarePlanRow


def sender_of(user: Principal) -> inbound.Sender:
    team = sorted(user.teams)[0] if user.teams else None
    return inbound.Sender(org=user.org, name=user.name or user.sub, team=team)


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def _alias(uow: UnitOfWork, org: str | None, source: str) -> uuid.UUID | None:
    if not org or not source:
        return None
    row = await uow.session.get(FhirAliasRow, (org, "Patient", source))
    return row.person_id if row else None


async def subject_of(
    uow: UnitOfWork, data: dict[str, Any], kind: str, user: Principal
) -> uuid.UUID:
    """The person a resource is about: ``Patient/<our id>``, ``Patient/<the id the sender
    gave them>``, or their NHS number as the reference's identifier."""
    subject = data.get("subject") or {}
    ident = subject.get("identifier") or {}
    if ident.get("system") == codes.NHS_NUMBER and ident.get("value"):
        found = await store.person_by_nhs_number(uow.session, str(ident["value"]))
        if found is not None:
            return found.id
    reference = str(subject.get("reference") or "")
    if reference.startswith("Patient/"):
        local = reference.removeprefix("Patient/")
        person_id = as_uuid(local)
        if person_id:
            current, found = await store.current_person(uow.session, person_id)
            if found is not None:
                return current  # a merged id: the person's id now
        aliased = await _alias(uow, user.org, local)
        if aliased:
            return aliased
    raise invalid(
        f"{kind}.subject",
        "the subject is not a person known here: send their Patient first, or refer to them "
        "by NHS number",
        code="not-found",
    )


async def read(
    uow: UnitOfWork, person_id: uuid.UUID, user: Principal, now: datetime, resource_type: str
) -> Record:
    try:
        opened = await use_cases.open_record(
            uow, person_id, user, now=now, action="read", resource_type=resource_type
        )
    except NotFound as e:
        raise FhirError(404, [Issue(e.detail or "not found", "not-found")]) from None
    return Record(opened.person, opened.plan)


async def plan_by_id(uow: UnitOfWork, plan_id: uuid.UUID, user: Principal, now: datetime) -> Record:
    plan = await store.plan(uow.session, plan_id)
    if plan is None:
        raise FhirError(404, [Issue(f"No CarePlan {plan_id}.", "not-found")])
    survivor = await store.survivor_of(uow.session, plan.person_id)
    if survivor is None:
        return await read(uow, plan.person_id, user, now, "CarePlan")
    # Kept under an id merged into another (``care_plans.merges``): this plan, read by the
    # relationship with the person as they are now.
    try:
        kept = await use_cases.kept_record(uow, survivor, plan.person_id, user, now=now)
    except NotFound as e:
        raise FhirError(404, [Issue(e.detail or "not found", "not-found")]) from None
    return Record(kept.opened.person, kept.plan)


async def by_nhs_number(
    uow: UnitOfWork, nhs_number: str, user: Principal, now: datetime
) -> Record | None:
    person = await store.person_by_nhs_number(uow.session, nhs_number)
    if person is None:
        return None
    return await read(uow, person.id, user, now, "Patient")


async def receive_patient(
    uow: UnitOfWork, data: dict[str, Any], user: Principal, now: datetime
) -> tuple[Record, bool]:
    """Record the person (201), or find them if known (200); remember the sender's id."""
    details = inbound.patient_details(data)
    nhs_number = details.get("nhs_number")
    existing = await store.person_by_nhs_number(uow.session, nhs_number) if nhs_number else None
    if existing is None:
        person, plan = await use_cases.record_person(uow, details, user, now=now)
        record, created = Record(person, plan), True
    else:
        record, created = await read(uow, existing.id, user, now, "Patient"), False
    source = inbound.source_id(data)
    if user.org and source and await _alias(uow, user.org, source) is None:
        uow.session.add(
            FhirAliasRow(
                sender_org=user.org,
                resource_type="Patient",
                source_id=source[:200],
                person_id=record.person.id,
            )
        )
    await uow.session.flush()
    return record, created


def _fhir_invalid(
    e: InvalidInput, kind: str, came_from: dict[uuid.UUID, int], doc: PlanDocument
) -> FhirError:
    issues = []
    for err in e.extensions.get("errors", []):
        field = str(err.get("field", ""))
        expression = kind
        parts = field.split(".")
        if parts[0] == "actions" and len(parts) > 1 and parts[1].isdigit():
            action = doc.actions[int(parts[1])] if int(parts[1]) < len(doc.actions) else None
            if action is not None and action.id in came_from:
                expression = f"{kind}.activity[{came_from[action.id]}].detail"
                if parts[-1] == "due_date":
                    expression += ".scheduledPeriod.end"
        issues.append(Issue(str(err.get("message", "")), "invariant", (expression,)))
    return FhirError(422, issues or [Issue(e.detail or "invalid", "invariant", (kind,))])


async def receive(
    uow: UnitOfWork, data: dict[str, Any], kind: str, user: Principal, now: datetime
) -> Record:
    """A CarePlan's activities, or a CareTeam's participants, merged into the shared plan
    (a new version) by a sender with a relationship with the person."""
    inbound.check_codes(data, kind)
    person_id = await subject_of(uow, data, kind, user)
    opened = await use_cases.open_record(
        uow, person_id, user, now=now, action=f"import-{kind}", write=True
    )
    current = PlanDocument.model_validate(opened.plan.document)
    sender = sender_of(user)
    came_from: dict[uuid.UUID, int] = {}
    if kind == "CarePlan":
        after, came_from = inbound.plan_from_care_plan(data, current, sender)
    else:
        after = inbound.plan_from_care_team(data, current, sender)
    reason = f"{kind} {inbound.source_id(data) or '(no id)'} from {user.org or user.sub}"
    try:
        await records.save_version(
            uow, opened.person, opened.plan, after, Editor.of(user), now, reason=reason
        )
    except InvalidInput as e:
        raise _fhir_invalid(e, kind, came_from, after) from None
    return Record(opened.person, opened.plan)
