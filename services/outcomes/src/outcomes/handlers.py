"""What the outcomes service consumes to keep indicator inputs current.

Each handler runs in the consumer's unit of work beside the inbox row, so a repeated
delivery is never applied twice; handlers also decide from the event's own data (sequence,
timestamps), so a replay of the same events rebuilds the same facts.
"""

from __future__ import annotations

import uuid
from datetime import datetime

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
    PersonRegisteredV1,
    PersonUpdatedV1,
    ReferralReceivedV1,
    ReferralSlaBreachedV1,
    ReferralStatusChangedV1,
    ReferralTriagedV1,
)
from carethread.messaging import EventRouter
from outcomes.domain.population import declared_flags
from outcomes.store import facts, people, rows
from outcomes.store.tables import (
    CarePlanFactRow,
    CareTeamMemberRow,
    GoalFactRow,
    OverdueActionRow,
)

router = EventRouter()
UNKNOWN_NEIGHBOURHOOD = facts.UNKNOWN_NEIGHBOURHOOD


async def _person(
    uow: UnitOfWork, person_id: uuid.UUID, p: PersonDetails, changed_at: datetime
) -> None:
    groups, opted_out = declared_flags(p.model_extra)
    details = people.Details(
        birth_date=p.birth_date,
        sex=p.sex,
        ethnicity_code=p.ethnicity_code,
        borough=p.borough,
        neighbourhood=p.neighbourhood,
        lsoa=p.lsoa,
        imd_quintile=p.imd_quintile,
        gp_practice_code=p.gp_practice_code,
        has_nhs_number=p.nhs_number is not None,
        declared_groups=groups,
    )
    await people.apply_details(uow, person_id, details, changed_at=changed_at)
    if opted_out is not None:
        await people.set_opt_out(uow, person_id, opted_out, changed_at)


@router.on(PersonRegisteredV1)
async def on_person_registered(event: Event[PersonRegisteredV1], uow: UnitOfWork) -> None:
    d = event.data
    await _person(uow, d.person_id, d.person, d.registered_at)


@router.on(PersonUpdatedV1)
async def on_person_updated(event: Event[PersonUpdatedV1], uow: UnitOfWork) -> None:
    d = event.data
    await _person(uow, d.person_id, d.person, d.updated_at)


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
    await people.apply_details(
        uow, d.person_id, details, changed_at=d.created_at, authoritative=False
    )


@router.on(ReferralReceivedV1)
async def on_referral_received(event: Event[ReferralReceivedV1], uow: UnitOfWork) -> None:
    d = event.data
    await facts.count_received(uow, d.received_at, d.neighbourhood, d.source)
    row, _ = await facts.referral(
        uow, d.referral_id, d.person_id, d.status, event.envelope.sequence or 1
    )
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
    person = await people.apply_details(
        uow, d.person_id, summary, changed_at=d.received_at, authoritative=False
    )
    people.note_reasons(person, d.reason_codes)


@router.on(ReferralTriagedV1)
async def on_referral_triaged(event: Event[ReferralTriagedV1], uow: UnitOfWork) -> None:
    d = event.data
    row, fresh = await facts.referral(
        uow, d.referral_id, d.person_id, d.status, event.envelope.sequence or 1
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
            person = await people.ensure(uow, d.person_id, d.triaged_at)
            person.social_prescribed = True


@router.on(ReferralStatusChangedV1)
async def on_referral_status_changed(
    event: Event[ReferralStatusChangedV1], uow: UnitOfWork
) -> None:
    d = event.data
    row, fresh = await facts.referral(
        uow, d.referral_id, d.person_id, d.status, event.envelope.sequence or 1
    )
    if not fresh:
        return
    if d.status == "in_progress" and row.started_at is None:
        row.started_at = d.changed_at  # taken up: the service started working with them
    if d.status == "completed":
        row.completed_at = d.changed_at
        row.started_at = row.started_at or d.changed_at


@router.on(ReferralSlaBreachedV1)
async def on_referral_sla_breached(event: Event[ReferralSlaBreachedV1], uow: UnitOfWork) -> None:
    d = event.data
    row, _ = await facts.referral(uow, d.referral_id, d.person_id, d.status, 0)
    row.sla_breached = True  # once breached, always breached: order does not matter
    if row.received_at is None:
        row.received_at = d.received_at
    if row.neighbourhood is None:
        row.neighbourhood = d.neighbourhood


@router.on(CarePlanCreatedV1)
async def on_care_plan_created(event: Event[CarePlanCreatedV1], uow: UnitOfWork) -> None:
    d = event.data
    row = await rows.find(uow, CarePlanFactRow, d.person_id)
    if row is None:
        rows.add(
            uow,
            CarePlanFactRow(person_id=d.person_id, plan_id=d.plan_id, created_at=d.changed_at),
            d.person_id,
        )
    elif d.changed_at < row.created_at:
        row.plan_id, row.created_at = d.plan_id, d.changed_at
    person = await people.ensure(uow, d.person_id, d.changed_at)
    person.has_care_plan = True


async def _goal(uow: UnitOfWork, event: Event[GoalAddedV1] | Event[GoalAchievedV1]) -> GoalFactRow:
    d = event.data
    row = await rows.find(uow, GoalFactRow, d.goal_id)
    if row is None:
        row = GoalFactRow(
            goal_id=d.goal_id,
            person_id=d.person_id,
            status=d.status,
            plan_version=d.version,
            added_at=d.changed_at,
        )
        rows.add(uow, row, d.goal_id)
    elif d.version > row.plan_version:
        row.status, row.plan_version = d.status, d.version
    return row


@router.on(GoalAddedV1)
async def on_goal_added(event: Event[GoalAddedV1], uow: UnitOfWork) -> None:
    row = await _goal(uow, event)
    row.added_at = min(row.added_at, event.data.changed_at)


@router.on(GoalAchievedV1)
async def on_goal_achieved(event: Event[GoalAchievedV1], uow: UnitOfWork) -> None:
    row = await _goal(uow, event)
    at = event.data.changed_at
    row.achieved_at = at if row.achieved_at is None else min(row.achieved_at, at)


@router.on(PlanActionOverdueV1)
async def on_plan_action_overdue(event: Event[PlanActionOverdueV1], uow: UnitOfWork) -> None:
    d = event.data
    if d.due_date is None:
        return
    key = (d.action_id, d.due_date)
    if await rows.find(uow, OverdueActionRow, key) is None:
        rows.add(
            uow,
            OverdueActionRow(
                action_id=d.action_id,
                due_date=d.due_date,
                person_id=d.person_id,
                owner_org=d.owner_org,
                announced_at=d.changed_at,
            ),
            key,
        )


async def _care_team(
    uow: UnitOfWork,
    event: Event[CareTeamMemberJoinedV1] | Event[CareTeamMemberLeftV1],
    *,
    active: bool,
) -> None:
    d = event.data
    key = (d.person_id, d.member_id)
    row = await rows.find(uow, CareTeamMemberRow, key)
    if row is None:
        rows.add(
            uow,
            CareTeamMemberRow(
                person_id=d.person_id,
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
    await _care_team(uow, event, active=True)


@router.on(CareTeamMemberLeftV1)
async def on_care_team_member_left(event: Event[CareTeamMemberLeftV1], uow: UnitOfWork) -> None:
    await _care_team(uow, event, active=False)
