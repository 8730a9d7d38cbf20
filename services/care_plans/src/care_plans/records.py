"""Starting and saving a person's record: the person, their plan and its versions.

Shared by the HTTP API and the event handlers. Each function adds rows and events to the
unit of work and flushes; the entrypoint commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from care_plans import events
from care_plans.domain.calendar import local_date
from care_plans.domain.changes import happenings
from care_plans.domain.diff import diff, sections
from care_plans.domain.document import CareTeamMember, PlanDocument
from care_plans.domain.patch import is_snapshot, make_patch
from care_plans.domain.rules import Violation, violations
from care_plans.store import plans as store
from care_plans.store.tables import CarePlanRow, PersonRow, PlanVersionRow
from carethread.auth import Principal
from carethread.db import UnitOfWork
from carethread.errors import InvalidInput
from carethread.events import CloudEvent, topics
from carethread.messaging import add_to_outbox

SERVICE = "care_plans"
# The person's details the front door's events and this service's API both carry.
PERSON_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "postcode",
    "gp_practice_code",
    "neighbourhood",
    "borough",
    "preferred_language",
    "interpreter_needed",
    "phone",
    "email",
)


@dataclass(frozen=True)
class Editor:
    """Who saves a version: a user, or the practitioner an event names."""

    sub: str
    name: str | None
    org: str | None
    role: str | None

    @classmethod
    def of(cls, principal: Principal) -> Editor:
        roles = ", ".join(sorted(principal.roles))[:100] or None
        return cls(principal.sub, principal.name, principal.org, roles)


@dataclass(frozen=True)
class Saved:
    plan: CarePlanRow
    document: PlanDocument
    changed: bool  # False: the new document equals the current one; no version was added


def invalid(problems: list[Violation]) -> InvalidInput:
    names = ", ".join(dict.fromkeys(p.field for p in problems))
    return InvalidInput(
        f"The plan cannot be saved: {names}",
        errors=[
            {
                "field": p.field,
                "in": "body",
                "pointer": "#/" + p.field.replace(".", "/"),
                "message": p.message,
                "type": "value_error",
            }
            for p in problems
        ],
    )


def apply_details(row: PersonRow, details: Mapping[str, Any]) -> list[str]:
    """Copy the known details onto ``row``; the names of those that changed."""
    changed = []
    for name in PERSON_FIELDS:
        if name not in details:
            continue
        value = details[name]
        if name == "interpreter_needed":
            value = bool(value)
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    return changed


async def _publish(uow: UnitOfWork, person_id: uuid.UUID, out: list[CloudEvent]) -> None:
    for event in out:
        await add_to_outbox(uow, event, topic=topics.CARE_PLANS, key=str(person_id))


async def start_record(
    uow: UnitOfWork,
    *,
    person_id: uuid.UUID,
    details: Mapping[str, Any],
    recorded_from: str,
    editor: Editor,
    care_team: list[CareTeamMember],
    now: datetime,
    reason: str,
) -> tuple[PersonRow, CarePlanRow]:
    """A new person with an empty plan (version 1) and its first care-team members."""
    person = PersonRow(
        id=person_id,
        interpreter_needed=False,
        recorded_from=recorded_from,
        created_at=now,
        updated_at=now,
        records_to_combine=0,
    )
    apply_details(person, details)
    uow.session.add(person)
    await uow.session.flush()  # the person exists before the plan that refers to it
    document = PlanDocument(care_team=care_team)
    plan = CarePlanRow(
        id=uuid.uuid4(),
        person_id=person_id,
        version=1,
        document=document.as_json(),
        created_at=now,
        updated_at=now,
        updated_by=editor.sub,
        updated_by_org=editor.org,
    )
    uow.session.add(plan)
    await uow.session.flush()
    changes = diff(PlanDocument().as_json(), document.as_json())
    uow.session.add(_version_row(plan, editor, now, changes_json(changes), reason))
    ctx = _context(plan, person, editor, now)
    out = [events.person_recorded(person)]
    out += events.plan_saved(ctx, document, happenings(None, document), [], local_date(now))
    await _publish(uow, person_id, out)
    await uow.session.flush()
    return person, plan


async def update_person(
    uow: UnitOfWork, person: PersonRow, details: Mapping[str, Any], now: datetime
) -> list[str]:
    changed = apply_details(person, details)
    if changed:
        person.updated_at = now
        await _publish(uow, person.id, [events.person_updated(person, changed)])
        await uow.session.flush()
    return changed


FRONT_DOOR = Editor(sub="carethread/referrals", name="Integrated front door", org=None, role=None)


async def start_from_front_door(
    uow: UnitOfWork, person_id: uuid.UUID, details: Mapping[str, Any], now: datetime
) -> PersonRow:
    person, _ = await start_record(
        uow,
        person_id=person_id,
        details=details,
        recorded_from="front_door",
        editor=FRONT_DOOR,
        care_team=[],
        now=now,
        reason="recorded from the front door",
    )
    return person


def is_stale(person: PersonRow, sequence: int | None, changed_at: datetime) -> bool:
    """An older (or the same) version of the person than the one applied, delivered late.
    The front door's ``sequence`` decides; its times are when referrals were received,
    which need not increase."""
    if sequence is not None and person.front_door_sequence is not None:
        return sequence <= person.front_door_sequence
    seen = person.front_door_changed_at
    return seen is not None and changed_at <= seen


async def person_from_front_door(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    details: Mapping[str, Any],
    changed_at: datetime,
    sequence: int | None,
) -> PersonRow:
    """Apply the front door's description of the person (version ``sequence``): start their
    record, or update it unless it has a newer (or the same) version already. ``person_id``
    is the id the person has now (``store.current_person``)."""
    fields = {name: details[name] for name in PERSON_FIELDS if name in details}
    now = datetime.now(UTC)
    person = await store.person(uow.session, person_id)
    if person is None:
        person = await start_from_front_door(uow, person_id, fields, now)
    elif is_stale(person, sequence, changed_at):
        return person
    else:
        await update_person(uow, person, fields, now)
    person.front_door_changed_at = changed_at
    person.front_door_sequence = sequence
    return person


def changes_json(changes: list[Any]) -> list[dict[str, str]]:
    return [{"path": c.path, "op": c.op} for c in changes]


def _version_row(
    plan: CarePlanRow,
    editor: Editor,
    now: datetime,
    changes: list[dict[str, str]],
    reason: str | None,
    previous: dict[str, Any] | None = None,
) -> PlanVersionRow:
    """The version just saved: whole if it starts a stretch of versions (see ``snapshot``),
    else the patch from ``previous``, the version before."""
    whole = previous is None or is_snapshot(plan.version)
    return PlanVersionRow(
        plan_id=plan.id,
        version=plan.version,
        document=plan.document if whole else None,
        patch=None if whole else make_patch(previous, plan.document),
        changed_by=editor.sub,
        changed_by_name=editor.name,
        organisation=editor.org,
        role=editor.role,
        changed_at=now,
        changes=changes,
        reason=reason,
    )


def _context(
    plan: CarePlanRow, person: PersonRow, editor: Editor, now: datetime
) -> events.PlanContext:
    return events.PlanContext(
        plan_id=plan.id,
        person_id=plan.person_id,
        neighbourhood=person.neighbourhood,
        version=plan.version,
        org=editor.org,
        at=now,
    )


def _stamp_about_me(before: PlanDocument, after: PlanDocument, today: date) -> PlanDocument:
    """'Date updated' (PRSB About Me) moves whenever anything else in 'about me' does."""
    same_date = after.about_me.model_copy(update={"date_updated": before.about_me.date_updated})
    stamp = before.about_me.date_updated if same_date == before.about_me else today
    if after.about_me.date_updated == stamp:
        return after
    return after.model_copy(
        update={"about_me": after.about_me.model_copy(update={"date_updated": stamp})}
    )


async def save_version(
    uow: UnitOfWork,
    person: PersonRow,
    plan: CarePlanRow,
    after: PlanDocument,
    editor: Editor,
    now: datetime,
    *,
    reason: str | None = None,
) -> Saved:
    """Save ``after`` as the plan's next version, with the events it gives rise to.

    The caller has locked the plan row and checked the version the editor read."""
    today = local_date(now)
    before = PlanDocument.model_validate(plan.document)
    problems = violations(before, after, today)
    if problems:
        raise invalid(problems)
    after = _stamp_about_me(before, after, today)
    document = after.as_json()
    changes = diff(before.as_json(), document)
    if not changes:
        return Saved(plan, before, changed=False)
    previous = plan.document
    plan.version += 1
    plan.document = document
    plan.updated_at, plan.updated_by, plan.updated_by_org = now, editor.sub, editor.org
    uow.session.add(_version_row(plan, editor, now, changes_json(changes), reason, previous))
    changed_sections = sections(changes)
    out = events.plan_saved(
        _context(plan, person, editor, now),
        after,
        happenings(before, after),
        changed_sections,
        today,
    )
    await _publish(uow, person.id, out)
    # After the events are added: the rows above all go in the one flush this starts.
    if "actions" in changed_sections:
        await store.sync_actions(uow.session, plan, before, after)
    await uow.session.flush()
    return Saved(plan, after, changed=True)
