"""Events published by the care_plans service on ``carethread.care-plans.v1``.

Keyed by person id. Plan, goal, action and care-team events carry the plan's version as the
envelope's ``sequence``, so a consumer can ignore a stale or repeated change. Data is
minimised: ids, codes, dates and statuses; the person's own words (what matters to me, my
story, goal and action descriptions) stay in the care_plans service.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar

from carethread.events import topics
from carethread.events.registry import EventData, registry


class _CarePlansEvent(EventData):
    topic: ClassVar[str] = topics.CARE_PLANS
    source_service: ClassVar[str] = "care_plans"


class _PersonRecord(_CarePlansEvent):
    """Who the record is about, as much as a consumer needs to show and place them."""

    person_id: uuid.UUID
    has_nhs_number: bool
    given_name: str
    family_name: str
    birth_date: date | None = None
    gp_practice_code: str | None = None
    neighbourhood: str | None = None
    borough: str | None = None
    recorded_from: str  # "front_door" (person events) | "care_plans" (recorded here)


@registry.register
class PersonRecordCreatedV1(_PersonRecord):
    """The shared record of a person now exists (with an empty plan)."""

    event_type: ClassVar[str] = "carethread.person-record.created.v1"

    created_at: datetime


@registry.register
class PersonRecordUpdatedV1(_PersonRecord):
    """The person's identifiers or demographics changed; ``changed`` names the fields."""

    event_type: ClassVar[str] = "carethread.person-record.updated.v1"

    changed: list[str]
    updated_at: datetime


class _PlanChange(_CarePlansEvent):
    plan_id: uuid.UUID
    person_id: uuid.UUID
    version: int
    changed_by_org: str | None = None
    changed_at: datetime


@registry.register
class CarePlanCreatedV1(_PlanChange):
    """A person's plan was started (version 1)."""

    event_type: ClassVar[str] = "carethread.care-plan.created.v1"

    status: str


@registry.register
class CarePlanUpdatedV1(_PlanChange):
    """A new version of the plan was saved; ``sections`` names the top-level parts that
    changed (goals, actions, care_team, ...), never their content."""

    event_type: ClassVar[str] = "carethread.care-plan.updated.v1"

    status: str
    sections: list[str]
    review_date: date | None = None
    goal_count: int
    open_action_count: int
    overdue_action_count: int
    key_worker_org: str | None = None


class _GoalChange(_PlanChange):
    goal_id: uuid.UUID
    status: str
    target_date: date | None = None
    outcome_measures: list[str] = []


@registry.register
class GoalAddedV1(_GoalChange):
    event_type: ClassVar[str] = "carethread.goal.added.v1"


@registry.register
class GoalAchievedV1(_GoalChange):
    event_type: ClassVar[str] = "carethread.goal.achieved.v1"


class _ActionChange(_PlanChange):
    action_id: uuid.UUID
    goal_id: uuid.UUID | None = None
    owner_member_id: uuid.UUID
    owner_org: str | None = None
    owner_team: str | None = None
    due_date: date | None = None
    status: str


@registry.register
class PlanActionAddedV1(_ActionChange):
    event_type: ClassVar[str] = "carethread.plan-action.added.v1"


@registry.register
class PlanActionCompletedV1(_ActionChange):
    event_type: ClassVar[str] = "carethread.plan-action.completed.v1"


@registry.register
class PlanActionOverdueV1(_ActionChange):
    """An open action's due date passed. Published once per action and due date."""

    event_type: ClassVar[str] = "carethread.plan-action.overdue.v1"


class _CareTeamChange(_PlanChange):
    member_id: uuid.UUID
    organisation: str | None = None
    team: str | None = None
    role: str | None = None
    key_worker: bool = False
    referral_id: uuid.UUID | None = None  # when the member joined by a referral's acceptance


@registry.register
class CareTeamMemberJoinedV1(_CareTeamChange):
    event_type: ClassVar[str] = "carethread.care-team.member-joined.v1"


@registry.register
class CareTeamMemberLeftV1(_CareTeamChange):
    event_type: ClassVar[str] = "carethread.care-team.member-left.v1"
