"""What the care_plans service publishes: ids, codes, dates and statuses, never narrative."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from care_plans.domain.changes import Happenings, overdue_actions
from care_plans.domain.document import OPEN_ACTION, Action, CareTeamMember, Goal, PlanDocument
from care_plans.store.tables import PersonRow
from carethread.events import CloudEvent, EventData, new_event
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


def _person_fields(p: PersonRow) -> dict[str, object]:
    return {
        "person_id": p.id,
        "has_nhs_number": p.nhs_number is not None,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "birth_date": p.birth_date,
        "gp_practice_code": p.gp_practice_code,
        "neighbourhood": p.neighbourhood,
        "borough": p.borough,
        "recorded_from": p.recorded_from,
    }


def person_recorded(p: PersonRow) -> CloudEvent:
    data = PersonRecordCreatedV1.model_validate({**_person_fields(p), "created_at": p.created_at})
    return new_event(data, subject=str(p.id), person_id=p.id, neighbourhood=p.neighbourhood)


def person_updated(p: PersonRow, changed: list[str]) -> CloudEvent:
    data = PersonRecordUpdatedV1.model_validate(
        {**_person_fields(p), "changed": changed, "updated_at": p.updated_at}
    )
    return new_event(data, subject=str(p.id), person_id=p.id, neighbourhood=p.neighbourhood)


@dataclass(frozen=True)
class PlanContext:
    """What every event about one saved version shares."""

    plan_id: uuid.UUID
    person_id: uuid.UUID
    neighbourhood: str | None
    version: int
    org: str | None
    at: datetime

    def common(self) -> dict[str, object]:
        return {
            "plan_id": self.plan_id,
            "person_id": self.person_id,
            "version": self.version,
            "changed_by_org": self.org,
            "changed_at": self.at,
        }

    def wrap(self, data: EventData) -> CloudEvent:
        return new_event(
            data,
            subject=str(self.plan_id),
            person_id=self.person_id,
            neighbourhood=self.neighbourhood,
            sequence=self.version,
        )


def _goal(ctx: PlanContext, model: type[GoalAddedV1] | type[GoalAchievedV1], g: Goal) -> CloudEvent:
    return ctx.wrap(
        model.model_validate(
            {
                **ctx.common(),
                "goal_id": g.id,
                "status": g.status.value,
                "target_date": g.target_date,
                "outcome_measures": list(g.outcome_measures),
            }
        )
    )


def _action(
    ctx: PlanContext,
    model: type[PlanActionAddedV1] | type[PlanActionCompletedV1] | type[PlanActionOverdueV1],
    a: Action,
    doc: PlanDocument,
) -> CloudEvent:
    owner = doc.member(a.owner)
    return ctx.wrap(
        model.model_validate(
            {
                **ctx.common(),
                "action_id": a.id,
                "goal_id": a.goal_id,
                "owner_member_id": a.owner,
                "owner_org": owner.organisation if owner else None,
                "owner_team": owner.team if owner else None,
                "due_date": a.due_date,
                "status": a.status.value,
            }
        )
    )


def _member(
    ctx: PlanContext,
    model: type[CareTeamMemberJoinedV1] | type[CareTeamMemberLeftV1],
    m: CareTeamMember,
) -> CloudEvent:
    return ctx.wrap(
        model.model_validate(
            {
                **ctx.common(),
                "member_id": m.id,
                "organisation": m.organisation,
                "team": m.team,
                "role": m.role or None,
                "key_worker": m.key_worker,
                "referral_id": m.referral_id,
            }
        )
    )


def action_overdue(ctx: PlanContext, a: Action, doc: PlanDocument) -> CloudEvent:
    return _action(ctx, PlanActionOverdueV1, a, doc)


def plan_saved(
    ctx: PlanContext,
    doc: PlanDocument,
    happened: Happenings,
    sections: list[str],
    today: date,
) -> list[CloudEvent]:
    """The plan event of a saved version, then one event per goal, action and member change."""
    key_worker = doc.key_worker()
    if ctx.version == 1:
        head: CloudEvent = ctx.wrap(
            CarePlanCreatedV1.model_validate({**ctx.common(), "status": doc.status.value})
        )
    else:
        head = ctx.wrap(
            CarePlanUpdatedV1.model_validate(
                {
                    **ctx.common(),
                    "status": doc.status.value,
                    "sections": sections,
                    "review_date": doc.review_date,
                    "goal_count": len(doc.goals),
                    "open_action_count": sum(a.status in OPEN_ACTION for a in doc.actions),
                    "overdue_action_count": len(overdue_actions(doc, today)),
                    "key_worker_org": key_worker.organisation if key_worker else None,
                }
            )
        )
    out = [head]
    out += [_member(ctx, CareTeamMemberJoinedV1, m) for m in happened.members_joined]
    out += [_member(ctx, CareTeamMemberLeftV1, m) for m in happened.members_left]
    out += [_goal(ctx, GoalAddedV1, g) for g in happened.goals_added]
    out += [_goal(ctx, GoalAchievedV1, g) for g in happened.goals_achieved]
    out += [_action(ctx, PlanActionAddedV1, a, doc) for a in happened.actions_added]
    out += [_action(ctx, PlanActionCompletedV1, a, doc) for a in happened.actions_completed]
    return out
