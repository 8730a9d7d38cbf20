"""Person merges in the shared care record: one person known under two ids becomes one.

The front door merges the id it minted for someone with no NHS number into the id their NHS
number gives, once a trace finds it, and publishes ``person.merged`` (the surviving
``person_id``, the ``merged_person_id`` that is gone, the person's details after the merge,
at a front-door ``sequence`` above every version either id had). This service remembers the
old id as an alias (``person_alias``) and then, by what it holds:

(a) **No record under the old id.** The surviving id's person is started or updated from the
    event's details, as a front-door person event of that version would be. An event for the
    old id that comes later (a late ``referral.received`` or ``person.registered``, or a
    producer that has not applied the merge) is applied to the surviving id
    (``store.current_person``): the record is the same whatever the order of arrival.
(b) **A record under the old id only.** It is re-keyed: a person row under the surviving id
    (the old one's, with the event's details, the NHS number now known) takes over the plan
    (its id, versions and history unchanged), its ``plan_action`` rows, the person's
    referrals, break-glass grants and what senders call them (``fhir_alias``); the old
    person row goes. The details' change is published as ``person-record.updated`` under
    the surviving id, and every later plan event goes out under it.
(c) **Records under both ids.** Two shared care records are not combined by a machine: which
    story, goals and actions are right is the care team's judgement. So the surviving id's
    record stays the person's record, and the old one is *kept* unchanged and read-only,
    marked as merged into it (``person.merged_into``): a read by the old id answers with the
    person's record now; a write by the old id is refused (409), since its version numbers
    are not the surviving plan's. The surviving record counts the kept records awaiting
    combining (``person.records_to_combine``) and lists them on reads; its care team reads a
    kept plan (``GET /api/v1/persons/{id}/merged-records/{old id}/care-plan``), carries over
    what they judge right with ordinary writes, then marks it combined (``POST
    .../combined``). Until then the kept record's care team is the person's care team too
    (they may use the surviving record, to combine). The person's referrals, break-glass
    grants and senders' ids move to the surviving id, and the kept plan's overdue actions
    are announced under it. Nothing is deleted; audit rows keep the id they were written
    under and the access log reads both.

    One exception needs no judgement: a kept record the front door's events alone made —
    an empty plan, or one whose only content is care-team members that accepted referrals
    added — is combined at once (those teams join the surviving care team, as the late
    ``referral.triaged`` events would have added them had the merge come first), so the
    outcome does not depend on the order in which the events arrived.

Reads by an old id (``use_cases.open_record``) answer with the person as they are now, by
the relationship with them now: the person's care team (and, until combined, a kept
record's), their open referrals (moved with them), break-glass grants (moved), and the
person themselves, whose token may still name the old id. FHIR ``Patient/{old id}`` answers
with the person's Patient, its ``link`` saying it ``replaces`` the old id; a sender's later
resources naming ``Patient/{old id}`` (or its own id for them) land on the person.

A merge already applied (its alias on record) only applies the details, if newer; the
consumer's inbox drops a repeated delivery before it gets here. On PostgreSQL a merge and
any event for either of its ids hold the ids (``store.lock_person``), so each sees what the
other did whatever two consumers apply at once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import inspect, update

from care_plans import records
from care_plans.domain.document import PlanDocument
from care_plans.records import PERSON_FIELDS, Editor
from care_plans.store import plans as store
from care_plans.store.tables import (
    BreakGlassRow,
    CarePlanRow,
    FhirAliasRow,
    PersonAliasRow,
    PersonReferralRow,
    PersonRow,
    PlanActionRow,
)
from carethread.db import UnitOfWork
from carethread.events.referrals import PersonMergedV1

# Who combines a kept record that needed no judgement.
CARE_PLANS = Editor(sub="carethread/care_plans", name="Shared care record", org=None, role=None)
# Rows that belong to the person rather than to one of their records.
_THE_PERSONS = (PersonReferralRow, BreakGlassRow, FhirAliasRow)


async def apply_merge(
    uow: UnitOfWork, data: PersonMergedV1, sequence: int | None, event_id: uuid.UUID
) -> None:
    old, new = data.merged_person_id, data.person_id
    if old == new:
        return
    session = uow.session
    # The old id first, as a handler of an event for it does (then the id it resolves to).
    await store.lock_person(session, old)
    await store.lock_person(session, new)
    details = data.person.model_dump(include=set(PERSON_FIELDS))
    done = await session.get(PersonAliasRow, old)
    if done is not None:  # applied already: the same merge published again
        await records.person_from_front_door(uow, done.person_id, details, data.merged_at, sequence)
        return
    old_person = await store.person(session, old)
    survivor = await store.person(session, new)
    alias = PersonAliasRow(
        merged_person_id=old,
        person_id=new,
        merged_at=data.merged_at,
        event_id=event_id,
        record_kept=old_person is not None and survivor is not None,
    )
    session.add(alias)
    # Anyone merged into the old id before (not something the front door does: it merges
    # only into ids from NHS numbers) follows it.
    await session.execute(
        update(PersonAliasRow)
        .where(PersonAliasRow.person_id == old, PersonAliasRow.merged_person_id != old)
        .values(person_id=new)
    )
    if old_person is None:  # (a)
        await records.person_from_front_door(uow, new, details, data.merged_at, sequence)
    elif survivor is None:  # (b)
        await _rekey(uow, old_person, new)
        await _details(uow, new, details, data.merged_at, sequence)
    else:  # (c)
        await _keep(uow, old_person, survivor, alias)
        await _details(uow, new, details, data.merged_at, sequence)
    await session.flush()


async def _details(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    details: dict[str, object],
    at: datetime,
    sequence: int | None,
) -> None:
    """The event's details, as a front-door person event of its version; the NHS number
    the merge is about is recorded even were the version somehow not newer."""
    person = await records.person_from_front_door(uow, person_id, details, at, sequence)
    number = details.get("nhs_number")
    if number is not None and person.nhs_number != number:
        await records.update_person(uow, person, {"nhs_number": number}, datetime.now(UTC))


async def _move(uow: UnitOfWork, tables: tuple[type, ...], old: uuid.UUID, new: uuid.UUID) -> None:
    for table in tables:
        await uow.session.execute(
            update(table).where(table.person_id == old).values(person_id=new)  # type: ignore[attr-defined]
        )


async def _rekey(uow: UnitOfWork, old_person: PersonRow, new: uuid.UUID) -> None:
    """(b): the old record becomes the surviving id's, rows and all."""
    session = uow.session
    old = old_person.id
    values = {a.key: getattr(old_person, a.key) for a in inspect(PersonRow).column_attrs}
    # The number is unique: the row under the new id takes it (from the event) after the
    # old row has let go of any it had (a minted id never has one).
    values.update(id=new, nhs_number=None, merged_into=None)
    if old_person.nhs_number is not None:
        old_person.nhs_number = None
        await session.flush()
    session.add(PersonRow(**values))
    await session.flush()  # the new person exists before the rows that refer to it
    await _move(uow, (CarePlanRow, PlanActionRow, *_THE_PERSONS), old, new)
    await session.execute(
        update(PersonRow).where(PersonRow.merged_into == old).values(merged_into=new)
    )
    await session.delete(old_person)
    await session.flush()


async def _keep(
    uow: UnitOfWork, old_person: PersonRow, survivor: PersonRow, alias: PersonAliasRow
) -> None:
    """(c): the old record is kept, marked as merged into the survivor's; it is combined
    at once only if it holds nothing a practitioner wrote."""
    old, new = old_person.id, survivor.id
    await _move(uow, _THE_PERSONS, old, new)
    old_person.merged_into = new
    if await _fold_front_door_record(uow, old, survivor, alias.merged_at):
        alias.combined_at, alias.combined_by = alias.merged_at, CARE_PLANS.sub
    else:
        survivor.records_to_combine = (survivor.records_to_combine or 0) + 1


def _made_by_events_alone(document: PlanDocument) -> bool:
    """Empty but for care-team members accepted referrals added (no key worker, no named
    practitioner): what the front door's events make, and nothing a person wrote."""
    bare = document.model_copy(update={"care_team": []}).as_json()
    return bare == PlanDocument().as_json() and all(
        m.referral_id is not None and m.team is not None and not m.key_worker and not m.practitioner
        for m in document.care_team
    )


async def _fold_front_door_record(
    uow: UnitOfWork, old: uuid.UUID, survivor: PersonRow, at: datetime
) -> bool:
    kept = await store.plan_for(uow.session, old)
    if kept is None:
        return True  # cannot happen: every person has a plan, made in the same transaction
    document = PlanDocument.model_validate(kept.document)
    if not _made_by_events_alone(document):
        return False
    plan = await store.plan_for(uow.session, survivor.id, for_update=True)
    if plan is None:
        return False
    current = PlanDocument.model_validate(plan.document)
    teams = {m.team for m in current.care_team}
    joining = [m for m in document.care_team if m.team not in teams]
    if joining:
        after = current.model_copy(update={"care_team": [*current.care_team, *joining]})
        await records.save_version(
            uow,
            survivor,
            plan,
            after,
            CARE_PLANS,
            at,
            reason=f"person {old} merged in: the teams of their accepted referrals join",
        )
    return True
