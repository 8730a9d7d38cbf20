"""Synthetic persons with plans of realistic size and long histories, written straight into
the service's tables with COPY (the service's own write path is what the benchmark times)."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from care_plans.domain.diff import diff
from care_plans.domain.document import (
    AboutMe,
    Action,
    CareTeamMember,
    Communication,
    ContingencyPlan,
    Goal,
    GoalStatus,
    ImportantPerson,
    Need,
    PlanDocument,
    PlanStatus,
)
from care_plans.domain.patch import is_snapshot
from carethread.nhs import person_id_for_nhs_number, synthetic_nhs_numbers

BENCH_TEAM = "bench-gp-team"
WORDS = (
    "get", "out", "more", "see", "family", "manage", "money", "cook", "sleep", "better",
    "walk", "shops", "feel", "less", "anxious", "warm", "flat", "work", "join", "choir",
)  # fmt: skip


@dataclass(frozen=True)
class Shape:
    persons: int = 50_000
    goals: int = 10
    actions: int = 30
    versions: int = 50


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=n)).capitalize()  # choices: one call, not n


def document(rng: random.Random, shape: Shape, today: date) -> PlanDocument:
    team = [
        CareTeamMember(name="GP practice", role="GP", organisation="F83004", team=BENCH_TEAM),
        CareTeamMember(name="District nursing", role="Nurse", organisation="RKE", team="dn"),
        CareTeamMember(name="Adult social care", role="Social worker", team="asc", key_worker=True),
        CareTeamMember(name="Befriending (VCSE)", role="Link worker", team="vcse"),
        CareTeamMember(name="Mental health", role="Care coordinator", organisation="TAF"),
        CareTeamMember(name="Housing officer", role="Housing", team="housing"),
    ]
    needs = [Need(description=_words(rng, 6)) for _ in range(max(shape.goals // 2, 1))]
    goals = [
        Goal(
            need_id=needs[i % len(needs)].id,
            description=_words(rng, 10),
            importance=rng.randint(1, 10),
            status=GoalStatus.IN_PROGRESS,
            target_date=today + timedelta(days=rng.randint(30, 300)),
            outcome_measures=["ONS4"],
        )
        for i in range(shape.goals)
    ]
    actions = [
        Action(
            goal_id=goals[i % len(goals)].id,
            description=_words(rng, 12),
            owner=team[i % len(team)].id,
            due_date=today + timedelta(days=rng.randint(1, 200)),
        )
        for i in range(shape.actions)
    ]
    return PlanDocument(
        status=PlanStatus.ACTIVE,
        about_me=AboutMe(
            what_matters_to_me=_words(rng, 30),
            people_important_to_me=[
                ImportantPerson(name="Daughter", relationship="daughter", is_carer=True)
            ],
            communication=Communication(language="en", accessible_formats=["large print"]),
            my_wellness=_words(rng, 20),
            please_do=[_words(rng, 8), _words(rng, 8)],
            please_dont=[_words(rng, 8)],
            how_and_when_to_support_me=_words(rng, 20),
        ),
        story=_words(rng, 120),
        strengths=[_words(rng, 5) for _ in range(3)],
        needs=needs,
        goals=goals,
        actions=actions,
        care_team=team,
        contingency_plan=ContingencyPlan(
            trigger_factors=[_words(rng, 5)], what_should_happen=_words(rng, 30)
        ),
        review_date=today + timedelta(days=90),
        review_responsible=team[2].id,
    )


def _edit(rng: random.Random, doc: dict[str, Any]) -> tuple[str, Any]:
    """One realistic edit, made in place: an action moves on, a goal's importance, or the
    story. Returns the path it changed and the new value."""
    choice = rng.random()
    if choice < 0.6:
        action = rng.choice(doc["actions"])
        action["status"] = "in_progress" if action["status"] == "planned" else "planned"
        return f"/actions/{action['id']}/status", action["status"]
    if choice < 0.8:
        goal = rng.choice(doc["goals"])
        goal["importance"] = rng.randint(1, 10)
        return f"/goals/{goal['id']}/importance", goal["importance"]
    doc["story"] = doc["story"] + " " + _words(rng, 5)
    return "/story", doc["story"]


@dataclass(frozen=True)
class Seeded:
    person_ids: list[uuid.UUID]
    document_bytes: int  # the size of one current plan document, as JSON


Row = tuple[Any, ...]
# Persons generated one by one; the rest are copies of these with fresh ids (generating a
# plan of realistic size with 50 versions is what made seeding 50,000 persons slow).
DISTINCT_PLANS = 1_000
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class _Plan:
    """One person's plan as the service stores it, before it belongs to anyone."""

    final: str  # the current document, as JSON
    versions: list[tuple[str | None, str | None, int, str]]  # document, patch, day, changes
    actions: list[tuple[str, str, date]]  # id, status, due date


def _plan(rng: random.Random, shape: Shape, started: date) -> _Plan:
    """Versions stored as the service stores them: whole at each snapshot, otherwise the
    patch on the version before."""
    doc = document(rng, shape, started).as_json()
    first = [{"path": c.path, "op": c.op} for c in diff(PlanDocument().as_json(), doc)]
    versions: list[tuple[str | None, str | None, int, str]] = []
    for v in range(1, shape.versions + 1):
        if v == 1:
            changes, patch = first, None
        else:
            path, value = _edit(rng, doc)
            changes, patch = [{"path": path, "op": "changed"}], [{"path": path, "value": value}]
        whole = is_snapshot(v)
        versions.append(
            (
                json.dumps(doc) if whole else None,
                None if whole else json.dumps(patch),
                v,
                json.dumps(changes),
            )
        )
    actions = [(a["id"], a["status"], date.fromisoformat(a["due_date"])) for a in doc["actions"]]
    return _Plan(json.dumps(doc), versions, actions)


def _with_fresh_ids(plan: _Plan) -> _Plan:
    """``plan`` with every id in it (goals, actions, care team, ...) replaced by a new one."""
    fresh: dict[str, str] = {}

    def new_id(match: re.Match[str]) -> str:
        found = fresh.get(match.group())
        if found is None:
            found = fresh[match.group()] = str(uuid.uuid4())
        return found

    texts = [plan.final, *(t or "" for d, p, _, c in plan.versions for t in (d, p, c))]
    texts += [i for i, _, _ in plan.actions]
    # One pass over all of it (NUL never occurs in JSON text): cheaper than one per text.
    swapped = _UUID.sub(new_id, "\0".join(texts)).split("\0")
    final, rest = swapped[0], iter(swapped[1:])
    versions = [
        (next(rest) or None, next(rest) or None, v, next(rest)) for _, _, v, _ in plan.versions
    ]
    actions = [(next(rest), status, due) for _, status, due in plan.actions]
    return _Plan(final, versions, actions)


def _rows(
    shape: Shape, seed: int, now: datetime
) -> Iterator[tuple[Row, Row, list[Row], list[Row]]]:
    """Each person's rows: person, plan, versions and actions."""
    rng = random.Random(seed)
    numbers = synthetic_nhs_numbers(start=200_000)
    started = now - timedelta(days=400)
    distinct: list[_Plan] = []
    for n in range(shape.persons):
        nhs = next(numbers)
        person_id = person_id_for_nhs_number(nhs)
        plan_id = uuid.uuid4()
        person = (
            person_id, nhs, f"Person{n}", "Synthetic", date(1950, 1, 1), "F83004",
            "U02795", False, "care_plans", started, now,
        )  # fmt: skip
        if n < DISTINCT_PLANS:
            distinct.append(_plan(rng, shape, started.date()))
            p = distinct[-1]
        else:
            p = _with_fresh_ids(distinct[n % DISTINCT_PLANS])
        versions = [
            (
                plan_id, v, d, patch, "bench.user", "Bench User", "F83004", "practitioner",
                started + timedelta(days=v), changes,
            )
            for d, patch, v, changes in p.versions
        ]  # fmt: skip
        plan = (plan_id, person_id, shape.versions, p.final, started, now, "bench.user", "F83004")
        actions = [(uuid.UUID(i), plan_id, person_id, status, due) for i, status, due in p.actions]
        yield person, plan, versions, actions


async def seed(dsn: str, shape: Shape, *, seed: int = 20261130, batch: int = 200) -> Seeded:
    """COPY ``shape.persons`` persons with their plans, versions and actions into ``dsn``."""
    now = datetime.now(UTC)
    conn = await asyncpg.connect(dsn)
    ids: list[uuid.UUID] = []
    size = 0
    try:
        people: list[Row] = []
        plans: list[Row] = []
        versions: list[Row] = []
        actions: list[Row] = []

        async def flush() -> None:
            await conn.copy_records_to_table(
                "person",
                records=people,
                columns=[
                    "id",
                    "nhs_number",
                    "given_name",
                    "family_name",
                    "birth_date",
                    "gp_practice_code",
                    "neighbourhood",
                    "interpreter_needed",
                    "recorded_from",
                    "created_at",
                    "updated_at",
                ],
            )
            await conn.copy_records_to_table(
                "care_plan",
                records=plans,
                columns=[
                    "id",
                    "person_id",
                    "version",
                    "document",
                    "created_at",
                    "updated_at",
                    "updated_by",
                    "updated_by_org",
                ],
            )
            await conn.copy_records_to_table(
                "care_plan_version",
                records=versions,
                columns=[
                    "plan_id",
                    "version",
                    "document",
                    "patch",
                    "changed_by",
                    "changed_by_name",
                    "organisation",
                    "role",
                    "changed_at",
                    "changes",
                ],
            )
            await conn.copy_records_to_table(
                "plan_action",
                records=actions,
                columns=["id", "plan_id", "person_id", "status", "due_date"],
            )
            for rows in (people, plans, versions, actions):
                rows.clear()

        for person, plan, person_versions, person_actions in _rows(shape, seed, now):
            people.append(person)
            plans.append(plan)
            versions.extend(person_versions)
            actions.extend(person_actions)
            ids.append(person[0])
            size = len(plan[3])
            if len(people) >= batch:
                await flush()
        if people:
            await flush()
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return Seeded(ids, size)
