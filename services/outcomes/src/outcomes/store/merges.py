"""Person merges: one person known under two ids becomes one person.

The front door merges the id it minted for someone with no NHS number into the id their
NHS number gives, once a trace finds it (``person.merged``). Here the merge, applied at
the commit of the run that brings it (``store.pending``), before the run's other events:

- moves every unit and fact of the old id to the new one (referral facts, goals, overdue
  actions, measures; care-team members and the care-plan fact combined with the new id's
  by the rules their handlers use: the later plan version, the earliest plan);
- applies the event's details to the new id as a person event of the merge's time, then
  combines the old id's person row into it by the handlers' rules (the later details
  win, a fact once true stays true: carer, social-prescribed, has a care plan; first seen
  is the earlier), and deletes the old row;
- recomputes the person's first-to-latest change on every instrument over all their
  measures, both ids' together, in time order (ties by measure id), so someone measured
  under both ids counts once per scale, with the pair their whole history gives;
- remembers the old id (``person_alias``): a later event for it (a late delivery, or a
  producer that has not applied the merge) is applied to the new id, and a request for it
  reads the person as they are now.

Opt-outs stay under the id they were stated for, and a person is opted out when their id
or any id merged into them is (``dimensions.person_opted_out``): so an opt-out is never lost in a
merge, and a later event about the old id's opt-out still decides that id's. The units'
copies of their person and the tallies then follow as for any change of person (the
tallies of both ids are taken before anything moves).

Every rule is decided by the rows and the events' own data, so the result is the same
whether the merge comes before, between or after the old id's events, and a merge
already on record changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from carethread.db import UnitOfWork, among, current_person_id, on_postgres
from carethread.events.referrals import PersonDetails
from outcomes.store import changes, people, tallies
from outcomes.store.rows import Rows
from outcomes.store.tables import (
    CarePlanFactRow,
    CareTeamMemberRow,
    GoalFactRow,
    MeasureRow,
    OverdueActionRow,
    PersonAliasRow,
    PersonRow,
    ReferralFactRow,
)

A = PersonAliasRow
CHUNK = 400  # ids per IN list (twice in a statement)
ARRAY_CHUNK = 20_000
# Rows that belong to a person by a ``person_id`` column that is not (all of) their key.
MOVED: tuple[type[ReferralFactRow | GoalFactRow | OverdueActionRow | MeasureRow], ...] = (
    ReferralFactRow,
    GoalFactRow,
    OverdueActionRow,
    MeasureRow,
)
# The person's details a merge takes from whichever row was described later.
DETAILS = (
    "birth_date",
    "sex",
    "ethnicity_code",
    "borough",
    "neighbourhood",
    "lsoa",
    "imd_quintile",
    "gp_practice_code",
    "has_nhs_number",
    "details_changed_at",
)


@dataclass(frozen=True)
class Merge:
    merged_person_id: uuid.UUID
    person_id: uuid.UUID
    person: PersonDetails
    merged_at: datetime
    event_id: uuid.UUID


def aliases_around(session: Session, people: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Every merged id of the people ``people`` are now (whether ``people`` names them by
    an old id or the current one), each with the id it is now."""
    found: dict[uuid.UUID, uuid.UUID] = {}
    ordered = sorted(people, key=lambda p: p.int)
    # PostgreSQL takes the ids as one array (a run's people in one statement); SQLite's
    # IN lists are kept well inside its parameter limit.
    size = ARRAY_CHUNK if on_postgres(session) else CHUNK
    for start in range(0, len(ordered), size):
        chunk = ordered[start : start + size]
        c = A.__table__.c
        survivors = select(A.person_id).where(
            or_(among(session, c.merged_person_id, chunk), among(session, c.person_id, chunk))
        )
        statement = select(A.merged_person_id, A.person_id).where(A.person_id.in_(survivors))
        found.update({row.merged_person_id: row.person_id for row in session.execute(statement)})
    return found


async def current_id(uow: UnitOfWork, person_id: uuid.UUID) -> uuid.UUID:
    """The id the person ``person_id`` names is now (itself unless merged)."""
    return await current_person_id(uow.session, A, person_id)


async def merged_ids(uow: UnitOfWork, person_id: uuid.UUID) -> set[uuid.UUID]:
    """The ids merged into ``person_id``."""
    found = await uow.session.scalars(select(A.merged_person_id).where(A.person_id == person_id))
    return set(found)


def people_of(merges: Iterable[Merge]) -> set[uuid.UUID]:
    return {p for m in merges for p in (m.merged_person_id, m.person_id)}


def apply_merges(session: Session, rows: Rows, merges: Iterable[Merge]) -> set[uuid.UUID]:
    """Apply each merge not on record yet; return the people whose units changed hands
    (their copies of their person are refreshed at commit). The caller has locked the
    merges' people (``tallies.lock_people``)."""
    merges = sorted(merges, key=lambda m: (m.merged_at, m.event_id.int))
    known = aliases_around(session, people_of(merges))
    survivors: set[uuid.UUID] = set()
    for merge in merges:
        old = merge.merged_person_id
        new = known.get(merge.person_id, merge.person_id)
        if old == new or old in known:
            continue  # a repeat (or someone merged into themselves)
        # Before any unit moves (the caller locked the ids the merge names).
        tallies.track(session, {old, new}, locked=(old, merge.person_id))
        session.execute(
            insert(A).values(
                merged_person_id=old, person_id=new, merged_at=merge.merged_at,
                event_id=merge.event_id,
            )
        )  # fmt: skip
        # Anyone merged into the old id before now follows it (the front door merges only
        # into ids from NHS numbers, which are never merged away: this is for safety).
        session.execute(update(A).where(A.person_id == old).values(person_id=new))
        for other, person in list(known.items()):
            if person == old:
                known[other] = new
        known[old] = new
        rows.know_aliases({k: v for k, v in known.items() if v == new})
        moved_measures = 0
        for model in MOVED:
            result = session.execute(
                update(model)
                .where(model.person_id == old)
                .values(person_id=new)
                .execution_options(synchronize_session=False)
            )
            if model is MeasureRow:
                moved_measures = result.rowcount  # type: ignore[attr-defined]
        _combine_care_team(session, rows, old, new)
        _combine_care_plan(rows, old, new)
        _combine_person(rows, merge, old, new)
        if moved_measures:
            changes.rebuild_all_changes(session, [old, new], new)
        survivors.add(new)
    return survivors


def _combine_care_team(session: Session, rows: Rows, old: uuid.UUID, new: uuid.UUID) -> None:
    """The old id's care-team members join the new id's; for a member both have, the
    later plan version's entry stands (as the handlers decide)."""
    members = session.scalars(select(CareTeamMemberRow).where(CareTeamMemberRow.person_id == old))
    for member in list(members):
        key = (new, member.member_id)
        kept = rows.find(CareTeamMemberRow, key)
        if kept is None:
            rows.add(
                CareTeamMemberRow(
                    person_id=new,
                    member_id=member.member_id,
                    team=member.team,
                    organisation=member.organisation,
                    active=member.active,
                    plan_version=member.plan_version,
                ),
                key,
            )
        elif member.plan_version > kept.plan_version:
            kept.active, kept.plan_version = member.active, member.plan_version
            kept.team, kept.organisation = member.team, member.organisation
        rows.delete(CareTeamMemberRow, (old, member.member_id))


def _combine_care_plan(rows: Rows, old: uuid.UUID, new: uuid.UUID) -> None:
    """The person's first plan, of either id (as the handler keeps the earliest)."""
    plan = rows.find(CarePlanFactRow, old)
    if plan is None:
        return
    kept = rows.find(CarePlanFactRow, new)
    if kept is None:
        rows.add(
            CarePlanFactRow(person_id=new, plan_id=plan.plan_id, created_at=plan.created_at), new
        )
    elif plan.created_at < kept.created_at:
        kept.plan_id, kept.created_at = plan.plan_id, plan.created_at
    rows.delete(CarePlanFactRow, old)


def _combine_person(rows: Rows, merge: Merge, old: uuid.UUID, new: uuid.UUID) -> None:
    details, opted_out = people.from_event(merge.person)
    kept = people.apply_details(rows, new, details, changed_at=merge.merged_at)
    if opted_out:  # a merge may add an opt-out, never take one away
        people.set_opt_out(rows, new, True, merge.merged_at)
    gone = rows.find(PersonRow, old)
    if gone is None:
        return
    declared = people.declared_groups(kept)
    if gone.details_changed_at is not None and (
        kept.details_changed_at is None or gone.details_changed_at > kept.details_changed_at
    ):
        for name in DETAILS:  # the old id was described later than the merge: it stands
            setattr(kept, name, getattr(gone, name))
        declared = people.declared_groups(gone)
    kept.referred_as_carer = kept.referred_as_carer or gone.referred_as_carer
    kept.social_prescribed = kept.social_prescribed or gone.social_prescribed
    kept.has_care_plan = kept.has_care_plan or gone.has_care_plan
    kept.first_seen_at = min(kept.first_seen_at, gone.first_seen_at)
    people.refresh_groups(kept, declared)
    rows.delete(PersonRow, old)
