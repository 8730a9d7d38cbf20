"""The rules that relate a plan's parts, checked on every new version.

Each rule reports the field path it is about, so the client can show it beside the field.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from care_plans.domain.document import OPEN_ACTION, PlanDocument


@dataclass(frozen=True)
class Violation:
    field: str  # dotted path into the plan document, e.g. "actions.2.owner"
    message: str


def _duplicates(section: str, ids: Iterable[uuid.UUID]) -> Iterator[Violation]:
    seen: set[uuid.UUID] = set()
    for i, item_id in enumerate(ids):
        if item_id in seen:
            yield Violation(f"{section}.{i}.id", f"id {item_id} appears twice in {section}")
        seen.add(item_id)


def violations(before: PlanDocument | None, after: PlanDocument, today: date) -> list[Violation]:
    """Why ``after`` may not replace ``before`` (empty when it may)."""
    out: list[Violation] = []
    for section, ids in (
        ("needs", (n.id for n in after.needs)),
        ("goals", (g.id for g in after.goals)),
        ("actions", (a.id for a in after.actions)),
        ("contacts", (c.id for c in after.contacts)),
        ("care_team", (m.id for m in after.care_team)),
        ("about_me.people_important_to_me", (p.id for p in after.about_me.people_important_to_me)),
    ):
        out.extend(_duplicates(section, ids))

    needs = {n.id for n in after.needs}
    goals = {g.id for g in after.goals}
    members = {m.id for m in after.care_team}
    for i, g in enumerate(after.goals):
        if g.need_id is not None and g.need_id not in needs:
            out.append(Violation(f"goals.{i}.need_id", f"no need {g.need_id} in this plan"))

    earlier = {a.id: a for a in before.actions} if before else {}
    for i, a in enumerate(after.actions):
        if a.goal_id is not None and a.goal_id not in goals:
            out.append(Violation(f"actions.{i}.goal_id", f"no goal {a.goal_id} in this plan"))
        if a.owner not in members:
            out.append(
                Violation(
                    f"actions.{i}.owner",
                    f"the owner {a.owner} is not a member of the care team: add them first",
                )
            )
        # A new due date may not already have passed; an existing one may (it is overdue).
        previous = earlier.get(a.id)
        set_now = previous is None or previous.due_date != a.due_date
        if set_now and a.due_date is not None and a.due_date < today and a.status in OPEN_ACTION:
            out.append(
                Violation(f"actions.{i}.due_date", f"the due date {a.due_date} has already passed")
            )

    key_workers = [i for i, m in enumerate(after.care_team) if m.key_worker]
    for i in key_workers[1:]:
        out.append(
            Violation(f"care_team.{i}.key_worker", "the care team has one key worker at most")
        )
    if after.review_responsible is not None and after.review_responsible not in members:
        out.append(
            Violation(
                "review_responsible",
                "whoever is responsible for the review must be in the care team",
            )
        )
    review_moved = before is None or before.review_date != after.review_date
    if review_moved and after.review_date is not None and after.review_date < today:
        out.append(
            Violation("review_date", f"the review date {after.review_date} has already passed")
        )
    return out
