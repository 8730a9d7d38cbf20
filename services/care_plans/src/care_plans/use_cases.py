"""Use cases of the HTTP API: reading and changing a record, by relationship, audited.

They add rows and events to the unit of work and flush; the entrypoint commits (a denied
attempt commits its audit record before it is refused).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from care_plans import records
from care_plans.domain.access import Caller, Relationship, may_change, may_read, relationship
from care_plans.domain.diff import Change, diff
from care_plans.domain.document import CareTeamMember, PlanDocument
from care_plans.domain.merge_patch import merge_patch
from care_plans.records import SERVICE, Editor, Saved
from care_plans.store import plans as store
from care_plans.store.tables import (
    BreakGlassRow,
    CarePlanRow,
    PersonAliasRow,
    PersonRow,
    PlanVersionRow,
)
from carethread.auth import Principal, record_access
from carethread.db import UnitOfWork
from carethread.db.tables import AuditRow
from carethread.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    field_errors,
)
from carethread.nhs import person_id_for_nhs_number

BREAK_GLASS_FOR = timedelta(hours=1)
PURPOSES = {
    Relationship.CARE_TEAM: "direct-care",
    Relationship.OPEN_REFERRAL: "direct-care",
    Relationship.SELF: "own-record",
    Relationship.BREAK_GLASS: "break-glass",
    Relationship.NONE: "direct-care",
}


@dataclass(frozen=True)
class Opened:
    person: PersonRow
    plan: CarePlanRow
    relationship: Relationship
    # Records kept under ids merged into this person's, awaiting combining (``merges``).
    to_combine: tuple[tuple[PersonAliasRow, CarePlanRow], ...] = ()


def _care_team(plan: CarePlanRow) -> list[CareTeamMember]:
    return [CareTeamMember.model_validate(m) for m in plan.document.get("care_team", [])]


async def _audit(
    uow: UnitOfWork,
    principal: Principal,
    *,
    action: str,
    resource_type: str,
    resource_id: str,
    person_id: uuid.UUID,
    rel: Relationship,
    allowed: bool,
    reason: str | None = None,
) -> None:
    details: dict[str, Any] = {"relationship": rel.value}
    if rel is Relationship.BREAK_GLASS:
        details["break_glass"] = True
    if reason:
        details["reason"] = reason
    await record_access(
        uow,
        principal,
        service=SERVICE,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        person_id=person_id,
        purpose=PURPOSES[rel],
        outcome="success" if allowed else "denied",
        details=details,
    )


async def _relationship(
    uow: UnitOfWork,
    caller: Caller,
    person_id: uuid.UUID,
    plan: CarePlanRow,
    now: datetime,
    to_combine: tuple[tuple[PersonAliasRow, CarePlanRow], ...] = (),
) -> Relationship:
    """The caller's relationship, asking the database only for what the plan cannot tell.
    The care team of a record kept to be combined into this one is the person's care team
    too, until it is combined."""
    team = _care_team(plan)
    for _, kept in to_combine:
        team += _care_team(kept)
    rel = relationship(caller, str(person_id), team, [])
    if caller.is_person:
        if rel is Relationship.NONE and await _was_merged_into(uow, caller.sub, person_id):
            return Relationship.SELF  # their token still names the id they had before
        return rel
    if rel is not Relationship.NONE:
        return rel
    referrals = await store.open_referrals(uow.session, person_id)
    rel = relationship(caller, str(person_id), team, referrals)
    if rel is Relationship.NONE and await store.has_open_break_glass(
        uow.session, person_id, caller.sub, now
    ):
        rel = Relationship.BREAK_GLASS
    return rel


async def _was_merged_into(uow: UnitOfWork, sub: str, person_id: uuid.UUID) -> bool:
    try:
        earlier = uuid.UUID(sub)
    except ValueError:
        return False
    return await store.survivor_of(uow.session, earlier) == person_id


async def open_record(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    principal: Principal,
    *,
    now: datetime,
    action: str,
    resource_type: str = "CarePlan",
    write: bool = False,
) -> Opened:
    """The person and their plan, if ``principal`` may read (or, ``write``, change) them.

    An id the front door merged into another leads to the person as they are now (a record
    kept under it is read-only: ``care_plans.merges``). Every attempt is audited, the
    refused ones too."""
    found = await store.person_and_plan(uow.session, person_id, for_update=write)
    if found is None or found[0].merged_into is not None:
        survivor = await store.survivor_of(uow.session, person_id)
        if survivor is None:  # every recorded person has a plan, made in one transaction
            raise NotFound(f"No person {person_id} has a record here.")
        if write and found is not None:
            raise Conflict(
                f"Person {person_id} was merged into {survivor}: this record is kept, "
                f"read-only, until their care team combines it. Write to {survivor}'s record.",
                person_id=str(survivor),
            )
        person_id = survivor
        found = await store.person_and_plan(uow.session, person_id, for_update=write)
        if found is None:
            raise NotFound(f"No person {person_id} has a record here.")
    person, plan = found
    to_combine: tuple[tuple[PersonAliasRow, CarePlanRow], ...] = ()
    if person.records_to_combine:
        to_combine = tuple(await store.records_to_combine(uow.session, person_id))
    rel = await _relationship(uow, principal.as_caller(), person_id, plan, now, to_combine)
    allowed = may_change(rel) if write else may_read(rel)
    resource_id = str(plan.id) if resource_type == "CarePlan" else str(person_id)
    await _audit(
        uow,
        principal,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        person_id=person_id,
        rel=rel,
        allowed=allowed,
    )
    if not allowed:
        await uow.commit()  # the refused attempt is audited too
        if write and may_read(rel):
            raise Forbidden("You may read this record but not change it.")
        raise Forbidden(
            "Your team is not in this person's care team and has no open referral for them. "
            "In an emergency, break the glass: POST /api/v1/persons/{id}/break-glass with a reason."
        )
    return Opened(person, plan, rel, to_combine)


def _stale(plan: CarePlanRow, expected: list[int]) -> PreconditionFailed | None:
    if plan.version in expected:
        return None
    return PreconditionFailed(
        f"The plan is at version {plan.version}, not {' or '.join(map(str, expected))}: "
        "someone else saved it since you read it. Read it again, merge, and retry.",
        current_version=plan.version,
    )


def _already_applied(plan: CarePlanRow, wanted: PlanDocument) -> Saved | None:
    """A write based on an old version whose result is the plan as it is now: a client
    retrying after a lost response. RFC 9110 (13.1.1) lets it succeed, changing nothing."""
    if diff(plan.document, wanted.as_json()):
        return None
    return Saved(plan, wanted, changed=False)


def parse_document(data: Any) -> PlanDocument:
    try:
        return PlanDocument.model_validate(data)
    except ValidationError as e:
        errors = field_errors(e.errors())
        names = ", ".join(dict.fromkeys(err["field"] for err in errors if err["field"]))
        raise InvalidInput(f"Invalid plan: {names}", errors=errors) from e


async def replace_plan(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    document: PlanDocument,
    principal: Principal,
    *,
    expected: list[int],
    now: datetime,
) -> tuple[Saved, Relationship]:
    opened = await open_record(uow, person_id, principal, now=now, action="update", write=True)
    stale = _stale(opened.plan, expected)
    if stale is not None:
        done = _already_applied(opened.plan, document)
        if done is None:
            raise stale
        return done, opened.relationship
    saved = await records.save_version(
        uow, opened.person, opened.plan, document, Editor.of(principal), now
    )
    return saved, opened.relationship


async def patch_plan(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    patch: Mapping[str, Any],
    principal: Principal,
    *,
    expected: list[int],
    now: datetime,
) -> tuple[Saved, Relationship]:
    opened = await open_record(uow, person_id, principal, now=now, action="patch", write=True)
    stale = _stale(opened.plan, expected)
    try:
        document = parse_document(merge_patch(opened.plan.document, dict(patch)))
    except InvalidInput:
        if stale is not None:
            raise stale from None  # the version is the first thing wrong
        raise
    if stale is not None:
        done = _already_applied(opened.plan, document)
        if done is None:
            raise stale
        return done, opened.relationship
    saved = await records.save_version(
        uow, opened.person, opened.plan, document, Editor.of(principal), now
    )
    return saved, opened.relationship


async def history(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    principal: Principal,
    *,
    now: datetime,
    after: int = 0,
    limit: int,
) -> tuple[Opened, list[dict[str, Any]]]:
    """A page of the plan's versions: up to ``limit`` numbered above ``after``."""
    opened = await open_record(uow, person_id, principal, now=now, action="read-history")
    return opened, await store.versions(uow.session, opened.plan.id, after=after, limit=limit)


async def one_version(
    uow: UnitOfWork, person_id: uuid.UUID, number: int, principal: Principal, *, now: datetime
) -> tuple[Opened, PlanVersionRow]:
    opened = await open_record(uow, person_id, principal, now=now, action="read-version")
    row = await store.version(uow.session, opened.plan.id, number)
    if row is None:
        raise NotFound(f"The plan has no version {number} (it is at {opened.plan.version}).")
    return opened, row


async def compare(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    older: int,
    newer: int,
    principal: Principal,
    *,
    now: datetime,
) -> list[Change]:
    opened = await open_record(uow, person_id, principal, now=now, action="read-diff")
    found = {}
    for number in (older, newer):
        row = await store.version(uow.session, opened.plan.id, number)
        if row is None:
            raise NotFound(f"The plan has no version {number} (it is at {opened.plan.version}).")
        found[number] = row.document
    return diff(found[older], found[newer])


async def break_glass(
    uow: UnitOfWork, person_id: uuid.UUID, reason: str, principal: Principal, *, now: datetime
) -> Opened:
    """Read without a relationship, for a stated reason: audited, flagged, and open for a
    short while (reads in that time are flagged too). Never a way to change the record."""
    if "person" in principal.roles:
        raise Forbidden("A person's token reads only their own record.")
    person_id, _ = await store.current_person(uow.session, person_id)  # a merged id: theirs now
    found = await store.person_and_plan(uow.session, person_id)
    if found is None:
        raise NotFound(f"No person {person_id} has a record here.")
    person, plan = found
    uow.session.add(
        BreakGlassRow(
            id=uuid.uuid4(),
            person_id=person_id,
            actor=principal.sub,
            organisation=principal.org,
            reason=reason,
            granted_at=now,
            expires_at=now + BREAK_GLASS_FOR,
        )
    )
    await _audit(
        uow,
        principal,
        action="break-glass",
        resource_type="CarePlan",
        resource_id=str(plan.id),
        person_id=person_id,
        rel=Relationship.BREAK_GLASS,
        allowed=True,
        reason=reason,
    )
    await uow.session.flush()
    return Opened(person, plan, Relationship.BREAK_GLASS)


async def access_log(
    uow: UnitOfWork, person_id: uuid.UUID, principal: Principal, *, now: datetime, limit: int
) -> list[AuditRow]:
    """Who has looked at (or tried to look at, or changed) this person's record, under any
    id merged into theirs too."""
    opened = await open_record(
        uow, person_id, principal, now=now, action="read-access-log", resource_type="AccessLog"
    )
    return await store.access_log(uow.session, opened.person.id, limit)


async def record_person(
    uow: UnitOfWork, details: Mapping[str, Any], principal: Principal, *, now: datetime
) -> tuple[PersonRow, CarePlanRow]:
    """A plan that starts without a referral: the person is recorded here, and the
    recording practitioner and their team form the first care team."""
    if not principal.teams:
        raise Forbidden("Your token names no team: the record needs a care team to start.")
    nhs_number = details.get("nhs_number")
    person_id = person_id_for_nhs_number(nhs_number) if nhs_number else uuid.uuid4()
    existing = await store.person(uow.session, person_id)
    if existing is not None:
        raise Conflict(
            "This person already has a record: ask their care team, or read it by relationship.",
            person_id=str(person_id),
        )
    team = sorted(principal.teams)[0]
    member = CareTeamMember(
        name=principal.name or principal.sub,
        role="Recorded the person",
        organisation=principal.org if principal.org and len(principal.org) >= 3 else None,
        team=team,
        practitioner=principal.sub,
        key_worker=True,
    )
    try:
        person, plan = await records.start_record(
            uow,
            person_id=person_id,
            details=details,
            recorded_from="care_plans",
            editor=Editor.of(principal),
            care_team=[member],
            now=now,
            reason="recorded without a referral",
        )
    except IntegrityError:
        # Recorded a moment ago by someone else (or the front door's event): the same
        # answer as when the record was already there.
        raise Conflict(
            "This person already has a record: ask their care team, or read it by relationship.",
            person_id=str(person_id),
        ) from None
    await _audit(
        uow,
        principal,
        action="create",
        resource_type="Patient",
        resource_id=str(person_id),
        person_id=person_id,
        rel=Relationship.CARE_TEAM,
        allowed=True,
    )
    return person, plan


@dataclass(frozen=True)
class KeptRecord:
    opened: Opened  # the person's record now
    alias: PersonAliasRow
    plan: CarePlanRow  # the plan kept under the merged id


async def kept_record(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    merged_id: uuid.UUID,
    principal: Principal,
    *,
    now: datetime,
    write: bool = False,
) -> KeptRecord:
    """A record kept under ``merged_id`` when it was merged into ``person_id`` (both had a
    record here), for the person's care team to combine; readable after it was combined."""
    action = "combine-merged-record" if write else "read-merged-record"
    opened = await open_record(uow, person_id, principal, now=now, action=action, write=write)
    alias = await uow.session.get(PersonAliasRow, merged_id)
    kept = await store.plan_for(uow.session, merged_id) if alias is not None else None
    if alias is None or alias.person_id != opened.person.id or kept is None:
        raise NotFound(f"Person {opened.person.id} has no record kept from {merged_id}.")
    return KeptRecord(opened, alias, kept)


async def kept_history(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    merged_id: uuid.UUID,
    principal: Principal,
    *,
    now: datetime,
    after: int = 0,
    limit: int,
) -> list[dict[str, Any]]:
    """A page of a kept plan's versions, as ``history`` gives the person's plan's."""
    kept = await kept_record(uow, person_id, merged_id, principal, now=now)
    return await store.versions(uow.session, kept.plan.id, after=after, limit=limit)


async def mark_combined(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    merged_id: uuid.UUID,
    principal: Principal,
    *,
    now: datetime,
) -> KeptRecord:
    """The care team has carried over what they judged right from a kept record: it no
    longer awaits combining (it stays, read-only). Saying so again changes nothing."""
    found = await kept_record(uow, person_id, merged_id, principal, now=now, write=True)
    if found.alias.combined_at is None:
        found.alias.combined_at, found.alias.combined_by = now, principal.sub
        person = found.opened.person
        person.records_to_combine = max(0, person.records_to_combine - 1)
        await uow.session.flush()
    return found
