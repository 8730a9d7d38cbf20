"""What the outcomes service consumes to keep indicator inputs current.

Each handler runs in the consumer's unit of work beside the inbox row, so a repeated
delivery is never applied twice; handlers also decide from the event's own data (sequence,
timestamps), so a replay of the same events rebuilds the same facts.

A handler only notes its event and the rows it touches; the run's events are applied
together, in order, when the unit of work commits (``store.pending``): a poll of hundreds
of events reads its rows in one query per table instead of one lookup per event.

A person id merged into another (``person.merged``, ``store.merges``) may still come in
later events: each apply function files what it learns under ``rows.now(person_id)``,
the id the person has now.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from typing import Any

from carethread.db import UnitOfWork
from carethread.events import Event
from carethread.events.care_plans import (
    CarePlanCreatedV1,
    CareTeamMemberJoinedV1,
    CareTeamMemberLeftV1,
    GoalAchievedV1,
    GoalAddedV1,
    PersonRecordCreatedV1,
    PlanActionOverdueV1,
)
from carethread.events.referrals import (
    PersonDetails,
    PersonMergedV1,
    PersonRegisteredV1,
    PersonUpdatedV1,
    ReferralReceivedV1,
    ReferralSlaBreachedV1,
    ReferralStatusChangedV1,
    ReferralTriagedV1,
)
from carethread.messaging import EventRouter
from outcomes.store import dimensions, facts, people
from outcomes.store.merges import Merge
from outcomes.store.pending import defer, merge_on_commit
from outcomes.store.rows import Rows
from outcomes.store.tables import (
    CarePlanFactRow,
    CareTeamMemberRow,
    DataOptOutRow,
    GoalFactRow,
    OverdueActionRow,
    PersonRow,
    ReferralFactRow,
    ReferralVolumeRow,
)

router = EventRouter()
UNKNOWN_NEIGHBOURHOOD = facts.UNKNOWN_NEIGHBOURHOOD


def _person(rows: Rows, *, person_id: uuid.UUID, p: PersonDetails, changed_at: datetime) -> None:
    details, opted_out = people.from_event(p)
    people.apply_details(rows, rows.now(person_id), details, changed_at=changed_at)
    if opted_out is not None:
        # Under the id it was stated for: a merged id's opt-out counts for its person.
        people.set_opt_out(rows, person_id, opted_out, changed_at)


def _person_touches(person_id: uuid.UUID) -> tuple[tuple[type[Any], Any], ...]:
    return ((PersonRow, person_id), (DataOptOutRow, person_id))


@router.on(PersonRegisteredV1)
async def on_person_registered(event: Event[PersonRegisteredV1], uow: UnitOfWork) -> None:
    d = event.data
    apply = partial(_person, person_id=d.person_id, p=d.person, changed_at=d.registered_at)
    defer(uow, apply, *_person_touches(d.person_id))


@router.on(PersonUpdatedV1)
async def on_person_updated(event: Event[PersonUpdatedV1], uow: UnitOfWork) -> None:
    d = event.data
    apply = partial(_person, person_id=d.person_id, p=d.person, changed_at=d.updated_at)
    defer(uow, apply, *_person_touches(d.person_id))


@router.on(PersonRecordCreatedV1)
async def on_person_record_created(event: Event[PersonRecordCreatedV1], uow: UnitOfWork) -> None:
    """Someone recorded straight into a care plan is known here too (their details fill
    in only a person the front door has not told us about)."""
    d = event.data
    details = people.Details(
        birth_date=d.birth_date,
        borough=d.borough,
        neighbourhood=d.neighbourhood,
        gp_practice_code=d.gp_practice_code,
        has_nhs_number=d.has_nhs_number,
    )

    def apply(rows: Rows) -> None:
        people.apply_details(
            rows, rows.now(d.person_id), details, changed_at=d.created_at, authoritative=False
        )

    defer(uow, apply, (PersonRow, d.person_id))


def _referral_received(rows: Rows, event: Event[ReferralReceivedV1]) -> None:
    d = event.data
    person_id = rows.now(d.person_id)
    facts.count_received(rows, d.received_at, d.neighbourhood, d.source)
    row, _ = facts.referral(rows, d.referral_id, person_id, d.status, event.envelope.sequence or 1)
    row.source, row.urgency, row.referrer_org = d.source, d.urgency, d.referrer_org
    row.reason_codes = list(d.reason_codes)
    row.neighbourhood = d.neighbourhood
    row.received_at = d.received_at
    s = d.person
    summary = people.Details(
        birth_date=s.birth_date,
        borough=s.borough,
        neighbourhood=d.neighbourhood,
        imd_quintile=s.imd_quintile,
        gp_practice_code=s.gp_practice_code,
        has_nhs_number=d.has_nhs_number,
    )
    person = people.apply_details(
        rows, person_id, summary, changed_at=d.received_at, authoritative=False
    )
    people.note_reasons(person, d.reason_codes)


@router.on(ReferralReceivedV1)
async def on_referral_received(event: Event[ReferralReceivedV1], uow: UnitOfWork) -> None:
    d = event.data
    defer(
        uow,
        lambda rows: _referral_received(rows, event),
        (ReferralVolumeRow, facts.volume_key(d.received_at, d.neighbourhood, d.source)),
        (ReferralFactRow, d.referral_id),
        (PersonRow, d.person_id),
        (DataOptOutRow, d.person_id),
    )


def _referral_triaged(rows: Rows, event: Event[ReferralTriagedV1]) -> None:
    d = event.data
    person_id = rows.now(d.person_id)
    row, fresh = facts.referral(
        rows, d.referral_id, person_id, d.status, event.envelope.sequence or 1
    )
    if not fresh:
        return
    if row.triaged_at is None or d.triaged_at < row.triaged_at:
        # Time to triage and the response-time target are about the first decision.
        row.triaged_at = d.triaged_at
        row.decision = d.decision
        row.triaged_within_sla = not d.breached_sla
    if d.breached_sla:
        row.sla_breached = True
    if d.destination is not None:
        row.destination_kind, row.destination_id = d.destination.kind, d.destination.id
        if d.destination.kind == facts.SOCIAL_PRESCRIPTION_KIND:
            row.social_prescription = True
            person = people.ensure(rows, person_id, d.triaged_at)
            person.social_prescribed = True


@router.on(ReferralTriagedV1)
async def on_referral_triaged(event: Event[ReferralTriagedV1], uow: UnitOfWork) -> None:
    d = event.data
    defer(
        uow,
        lambda rows: _referral_triaged(rows, event),
        (ReferralFactRow, d.referral_id),
        (PersonRow, d.person_id),
        (DataOptOutRow, d.person_id),
    )


def _referral_status_changed(rows: Rows, event: Event[ReferralStatusChangedV1]) -> None:
    d = event.data
    person_id = rows.now(d.person_id)
    row, fresh = facts.referral(
        rows, d.referral_id, person_id, d.status, event.envelope.sequence or 1
    )
    if not fresh:
        return
    if d.status == "in_progress" and row.started_at is None:
        row.started_at = d.changed_at  # taken up: the service started working with them
    if d.status == "completed":
        row.completed_at = d.changed_at
        row.started_at = row.started_at or d.changed_at


@router.on(ReferralStatusChangedV1)
async def on_referral_status_changed(
    event: Event[ReferralStatusChangedV1], uow: UnitOfWork
) -> None:
    defer(
        uow,
        lambda rows: _referral_status_changed(rows, event),
        (ReferralFactRow, event.data.referral_id),
        *_person_touches(event.data.person_id),
    )


def _referral_sla_breached(rows: Rows, d: ReferralSlaBreachedV1) -> None:
    row, _ = facts.referral(rows, d.referral_id, rows.now(d.person_id), d.status, 0)
    row.sla_breached = True  # once breached, always breached: order does not matter
    if row.received_at is None:
        row.received_at = d.received_at
    if row.neighbourhood is None:
        row.neighbourhood = d.neighbourhood


@router.on(ReferralSlaBreachedV1)
async def on_referral_sla_breached(event: Event[ReferralSlaBreachedV1], uow: UnitOfWork) -> None:
    d = event.data
    defer(
        uow,
        lambda rows: _referral_sla_breached(rows, d),
        (ReferralFactRow, d.referral_id),
        *_person_touches(d.person_id),
    )


def _care_plan_created(rows: Rows, d: CarePlanCreatedV1) -> None:
    person_id = rows.now(d.person_id)
    row = rows.find(CarePlanFactRow, person_id)
    if row is None:
        rows.add(
            CarePlanFactRow(person_id=person_id, plan_id=d.plan_id, created_at=d.changed_at),
            person_id,
        )
    elif d.changed_at < row.created_at:
        row.plan_id, row.created_at = d.plan_id, d.changed_at
    person = people.ensure(rows, person_id, d.changed_at)
    person.has_care_plan = True


@router.on(CarePlanCreatedV1)
async def on_care_plan_created(event: Event[CarePlanCreatedV1], uow: UnitOfWork) -> None:
    d = event.data
    defer(
        uow,
        lambda rows: _care_plan_created(rows, d),
        (CarePlanFactRow, d.person_id),
        (PersonRow, d.person_id),
    )


def _goal(rows: Rows, d: GoalAddedV1 | GoalAchievedV1) -> GoalFactRow:
    row = rows.find(GoalFactRow, d.goal_id)
    if row is None:
        row = GoalFactRow(
            goal_id=d.goal_id,
            person_id=rows.now(d.person_id),
            status=d.status,
            plan_version=d.version,
            added_at=d.changed_at,
        )
        dimensions.copy_for_new_unit(rows, row)
        rows.add(row, d.goal_id)
    elif d.version > row.plan_version:
        row.status, row.plan_version = d.status, d.version
    return row


def _goal_added(rows: Rows, d: GoalAddedV1) -> None:
    row = _goal(rows, d)
    row.added_at = min(row.added_at, d.changed_at)


def _goal_achieved(rows: Rows, d: GoalAchievedV1) -> None:
    row = _goal(rows, d)
    at = d.changed_at
    row.achieved_at = at if row.achieved_at is None else min(row.achieved_at, at)


@router.on(GoalAddedV1)
async def on_goal_added(event: Event[GoalAddedV1], uow: UnitOfWork) -> None:
    d = event.data
    defer(
        uow,
        lambda rows: _goal_added(rows, d),
        (GoalFactRow, d.goal_id),
        *_person_touches(d.person_id),
    )


@router.on(GoalAchievedV1)
async def on_goal_achieved(event: Event[GoalAchievedV1], uow: UnitOfWork) -> None:
    d = event.data
    defer(
        uow,
        lambda rows: _goal_achieved(rows, d),
        (GoalFactRow, d.goal_id),
        *_person_touches(d.person_id),
    )


def _plan_action_overdue(rows: Rows, d: PlanActionOverdueV1) -> None:
    if d.due_date is None:
        return
    key = (d.action_id, d.due_date)
    if rows.find(OverdueActionRow, key) is None:
        row = OverdueActionRow(
            action_id=d.action_id,
            due_date=d.due_date,
            person_id=rows.now(d.person_id),
            owner_org=d.owner_org,
            announced_at=d.changed_at,
        )
        dimensions.copy_for_new_unit(rows, row)
        rows.add(row, key)


@router.on(PlanActionOverdueV1)
async def on_plan_action_overdue(event: Event[PlanActionOverdueV1], uow: UnitOfWork) -> None:
    d = event.data
    if d.due_date is None:
        return
    defer(
        uow,
        lambda rows: _plan_action_overdue(rows, d),
        (OverdueActionRow, (d.action_id, d.due_date)),
        *_person_touches(d.person_id),
    )


def _care_team(
    rows: Rows, d: CareTeamMemberJoinedV1 | CareTeamMemberLeftV1, *, active: bool
) -> None:
    key = (rows.now(d.person_id), d.member_id)
    row = rows.find(CareTeamMemberRow, key)
    if row is None:
        rows.add(
            CareTeamMemberRow(
                person_id=key[0],
                member_id=d.member_id,
                team=d.team,
                organisation=d.organisation,
                active=active,
                plan_version=d.version,
            ),
            key,
        )
    elif d.version > row.plan_version:
        row.active, row.plan_version = active, d.version
        row.team, row.organisation = d.team, d.organisation


@router.on(CareTeamMemberJoinedV1)
async def on_care_team_member_joined(event: Event[CareTeamMemberJoinedV1], uow: UnitOfWork) -> None:
    d = event.data
    defer(
        uow,
        lambda rows: _care_team(rows, d, active=True),
        (CareTeamMemberRow, (d.person_id, d.member_id)),
    )


@router.on(CareTeamMemberLeftV1)
async def on_care_team_member_left(event: Event[CareTeamMemberLeftV1], uow: UnitOfWork) -> None:
    d = event.data
    defer(
        uow,
        lambda rows: _care_team(rows, d, active=False),
        (CareTeamMemberRow, (d.person_id, d.member_id)),
    )


@router.on(PersonMergedV1)
async def on_person_merged(event: Event[PersonMergedV1], uow: UnitOfWork) -> None:
    """Two ids were one person: the old id's units and facts become the surviving id's,
    applied at commit before the run's other events (``store.merges``)."""
    d = event.data
    merge_on_commit(uow, Merge(d.merged_person_id, d.person_id, d.person, d.merged_at, event.id))
