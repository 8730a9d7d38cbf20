"""The shared care record's events: the person record, plans, goals, actions, care teams.

Plan, goal, action and care-team events carry the plan's version as ``sequence``; one saved
version may produce several events about one action or member, so each row also keeps the
rank of the change applied (see ``domain.freshness.wins``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from carethread.db import UnitOfWork
from carethread.events import CloudEvent, Event
from carethread.events.care_plans import (
    CarePlanCreatedV1,
    CarePlanUpdatedV1,
    CareTeamMemberJoinedV1,
    CareTeamMemberLeftV1,
    GoalAchievedV1,
    GoalAddedV1,
    PersonRecordCreatedV1,
    PersonRecordUpdatedV1,
    PlanActionAddedV1,
    PlanActionCompletedV1,
    PlanActionOverdueV1,
)
from mdt.domain.freshness import is_newer, wins
from mdt.handlers.common import add_to_timeline, changes, mark_fresh, router, words
from mdt.store.poll import Record
from mdt.store.tables import (
    CarePlanRow,
    CareTeamMemberRow,
    PersonSnapshotRow,
    PlanActionRow,
    PlanGoalRow,
)

GOAL_RANK = {GoalAddedV1: 0, GoalAchievedV1: 1}
ACTION_RANK = {PlanActionAddedV1: 0, PlanActionOverdueV1: 1, PlanActionCompletedV1: 2}
MEMBER_RANK = {CareTeamMemberJoinedV1: 0, CareTeamMemberLeftV1: 1}
# A goal, action or member not seen yet: any change of theirs wins over it.
UNSEEN = {"sequence": -1, "rank": -1}


def _care_record(
    uow: UnitOfWork, event: Event[PersonRecordCreatedV1] | Event[PersonRecordUpdatedV1]
) -> None:
    """The care record's person events carry no sequence: the later time wins, then the
    greater event id, so two deliveries in either order agree."""
    d, envelope = event.data, event.envelope
    at = d.created_at if isinstance(d, PersonRecordCreatedV1) else d.updated_at
    details = d.model_dump(mode="json")

    def described(snapshot: Record) -> None:
        stored = (snapshot.care_record_at, snapshot.care_record_event)
        if stored[0] is None or stored[1] is None or (at, envelope.id) > stored:
            snapshot.care_record = details
            snapshot.care_record_at, snapshot.care_record_event = at, envelope.id

    changes(uow).change(PersonSnapshotRow, d.person_id, described)
    summary = (
        "Shared care record started"
        if isinstance(d, PersonRecordCreatedV1)
        else f"Shared care record updated: {', '.join(words(c) for c in d.changed) or 'details'}"
    )
    add_to_timeline(
        uow, envelope, person_id=d.person_id, occurred_at=at, summary=summary, organisation=None
    )
    mark_fresh(uow, envelope)
    changes(uow).refresh(d.person_id)


@router.on(PersonRecordCreatedV1)
async def on_person_record_created(event: Event[PersonRecordCreatedV1], uow: UnitOfWork) -> None:
    _care_record(uow, event)


@router.on(PersonRecordUpdatedV1)
async def on_person_record_updated(event: Event[PersonRecordUpdatedV1], uow: UnitOfWork) -> None:
    _care_record(uow, event)


def _unchanged(row: Record) -> None:
    """A change that only makes sure the row exists."""


def _plan(
    uow: UnitOfWork,
    plan_id: uuid.UUID,
    person_id: uuid.UUID,
    apply: Callable[[Record], None] = _unchanged,
) -> None:
    """Change the plan's row; a bare one (version 0) if a goal, action or member event
    came first."""
    changes(uow).change(CarePlanRow, plan_id, apply, person_id=person_id, sequence=0)


def _after_plan_event(
    uow: UnitOfWork,
    envelope: CloudEvent,
    person_id: uuid.UUID,
    summary: str,
    *,
    at: datetime,
    org: str | None,
) -> None:
    add_to_timeline(
        uow, envelope, person_id=person_id, occurred_at=at, summary=summary, organisation=org
    )
    mark_fresh(uow, envelope)
    changes(uow).refresh(person_id)


@router.on(CarePlanCreatedV1)
async def on_care_plan_created(event: Event[CarePlanCreatedV1], uow: UnitOfWork) -> None:
    d, envelope = event.data, event.envelope
    version = envelope.sequence or d.version

    def created(plan: Record) -> None:
        if is_newer(version, plan.sequence):
            plan.status, plan.sequence = d.status, version
            plan.neighbourhood = envelope.neighbourhood

    _plan(uow, d.plan_id, d.person_id, created)
    _after_plan_event(
        uow,
        envelope,
        d.person_id,
        f"Care plan started ({words(d.status)})",
        at=d.changed_at,
        org=d.changed_by_org,
    )


@router.on(CarePlanUpdatedV1)
async def on_care_plan_updated(event: Event[CarePlanUpdatedV1], uow: UnitOfWork) -> None:
    d, envelope = event.data, event.envelope
    version = envelope.sequence or d.version

    def updated(plan: Record) -> None:
        if is_newer(version, plan.sequence):
            plan.status, plan.sequence = d.status, version
            plan.review_date, plan.key_worker_org = d.review_date, d.key_worker_org
            plan.neighbourhood = envelope.neighbourhood

    _plan(uow, d.plan_id, d.person_id, updated)
    sections = ", ".join(words(s) for s in d.sections) or "no sections"
    _after_plan_event(
        uow,
        envelope,
        d.person_id,
        f"Care plan updated (version {d.version}): {sections}",
        at=d.changed_at,
        org=d.changed_by_org,
    )


def _goal_changed(uow: UnitOfWork, envelope: CloudEvent, d: GoalAddedV1 | GoalAchievedV1) -> None:
    _plan(uow, d.plan_id, d.person_id)
    incoming = (envelope.sequence or d.version, GOAL_RANK[type(d)])

    def changed(goal: Record) -> None:
        if wins(incoming, (goal.sequence, goal.rank)):
            goal.status, goal.target_date = d.status, d.target_date
            goal.sequence, goal.rank = incoming

    changes(uow).change(
        PlanGoalRow, d.goal_id, changed, plan_id=d.plan_id, person_id=d.person_id, **UNSEEN
    )
    what = "achieved" if isinstance(d, GoalAchievedV1) else "added"
    _after_plan_event(
        uow, envelope, d.person_id, f"Goal {what}", at=d.changed_at, org=d.changed_by_org
    )


def _action_changed(
    uow: UnitOfWork,
    envelope: CloudEvent,
    d: PlanActionAddedV1 | PlanActionCompletedV1 | PlanActionOverdueV1,
) -> None:
    _plan(uow, d.plan_id, d.person_id)
    incoming = (envelope.sequence or d.version, ACTION_RANK[type(d)])

    def changed(action: Record) -> None:
        if wins(incoming, (action.sequence, action.rank)):
            action.status, action.due_date = d.status, d.due_date
            action.owner_org, action.owner_team = d.owner_org, d.owner_team
            action.sequence, action.rank = incoming

    changes(uow).change(
        PlanActionRow, d.action_id, changed, plan_id=d.plan_id, person_id=d.person_id, **UNSEEN
    )
    owner = d.owner_team or d.owner_org or "the care team"
    if isinstance(d, PlanActionOverdueV1):
        summary, org = f"Action for {owner} overdue (due {d.due_date})", d.owner_org
    elif isinstance(d, PlanActionCompletedV1):
        summary, org = f"Action completed by {owner}", d.changed_by_org
    else:
        due = f", due {d.due_date}" if d.due_date else ""
        summary, org = f"Action added for {owner}{due}", d.changed_by_org
    _after_plan_event(uow, envelope, d.person_id, summary, at=d.changed_at, org=org)


def _member_changed(
    uow: UnitOfWork, envelope: CloudEvent, d: CareTeamMemberJoinedV1 | CareTeamMemberLeftV1
) -> None:
    _plan(uow, d.plan_id, d.person_id)
    incoming = (envelope.sequence or d.version, MEMBER_RANK[type(d)])

    def changed(member: Record) -> None:
        if wins(incoming, (member.sequence, member.rank)):
            member.organisation, member.team, member.role = d.organisation, d.team, d.role
            member.key_worker = d.key_worker
            member.active = isinstance(d, CareTeamMemberJoinedV1)
            member.sequence, member.rank = incoming

    changes(uow).change(
        CareTeamMemberRow,
        d.member_id,
        changed,
        plan_id=d.plan_id,
        person_id=d.person_id,
        **UNSEEN,
    )
    who = d.role or d.team or d.organisation or "A member"
    what = "joined" if isinstance(d, CareTeamMemberJoinedV1) else "left"
    _after_plan_event(
        uow,
        envelope,
        d.person_id,
        f"{who} {what} the care team",
        at=d.changed_at,
        org=d.organisation or d.changed_by_org,
    )


@router.on(GoalAddedV1)
async def on_goal_added(event: Event[GoalAddedV1], uow: UnitOfWork) -> None:
    _goal_changed(uow, event.envelope, event.data)


@router.on(GoalAchievedV1)
async def on_goal_achieved(event: Event[GoalAchievedV1], uow: UnitOfWork) -> None:
    _goal_changed(uow, event.envelope, event.data)


@router.on(PlanActionAddedV1)
async def on_plan_action_added(event: Event[PlanActionAddedV1], uow: UnitOfWork) -> None:
    _action_changed(uow, event.envelope, event.data)


@router.on(PlanActionCompletedV1)
async def on_plan_action_completed(event: Event[PlanActionCompletedV1], uow: UnitOfWork) -> None:
    _action_changed(uow, event.envelope, event.data)


@router.on(PlanActionOverdueV1)
async def on_plan_action_overdue(event: Event[PlanActionOverdueV1], uow: UnitOfWork) -> None:
    _action_changed(uow, event.envelope, event.data)


@router.on(CareTeamMemberJoinedV1)
async def on_care_team_member_joined(event: Event[CareTeamMemberJoinedV1], uow: UnitOfWork) -> None:
    _member_changed(uow, event.envelope, event.data)


@router.on(CareTeamMemberLeftV1)
async def on_care_team_member_left(event: Event[CareTeamMemberLeftV1], uow: UnitOfWork) -> None:
    _member_changed(uow, event.envelope, event.data)
