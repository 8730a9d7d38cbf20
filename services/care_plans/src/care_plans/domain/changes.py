"""What happened between two versions, in the terms other services listen for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from care_plans.domain.document import (
    OPEN_ACTION,
    Action,
    ActionStatus,
    CareTeamMember,
    Goal,
    GoalStatus,
    PlanDocument,
)


@dataclass(frozen=True)
class Happenings:
    goals_added: list[Goal] = field(default_factory=list)
    goals_achieved: list[Goal] = field(default_factory=list)
    actions_added: list[Action] = field(default_factory=list)
    actions_completed: list[Action] = field(default_factory=list)
    members_joined: list[CareTeamMember] = field(default_factory=list)
    members_left: list[CareTeamMember] = field(default_factory=list)


def happenings(before: PlanDocument | None, after: PlanDocument) -> Happenings:
    old_goals = {g.id: g for g in before.goals} if before else {}
    old_actions = {a.id: a for a in before.actions} if before else {}
    old_team = {m.id: m for m in before.care_team} if before else {}
    new_team = {m.id for m in after.care_team}
    return Happenings(
        goals_added=[g for g in after.goals if g.id not in old_goals],
        goals_achieved=[
            g
            for g in after.goals
            if g.status is GoalStatus.ACHIEVED
            and (g.id not in old_goals or old_goals[g.id].status is not GoalStatus.ACHIEVED)
        ],
        actions_added=[a for a in after.actions if a.id not in old_actions],
        actions_completed=[
            a
            for a in after.actions
            if a.status is ActionStatus.COMPLETED
            and (a.id not in old_actions or old_actions[a.id].status is not ActionStatus.COMPLETED)
        ],
        members_joined=[m for m in after.care_team if m.id not in old_team],
        members_left=[m for m_id, m in old_team.items() if m_id not in new_team],
    )


def is_overdue(action: Action, today: date) -> bool:
    """Open, with a due date before today."""
    return action.status in OPEN_ACTION and action.due_date is not None and action.due_date < today


def overdue_actions(plan: PlanDocument, today: date) -> list[Action]:
    return [a for a in plan.actions if is_overdue(a, today)]
