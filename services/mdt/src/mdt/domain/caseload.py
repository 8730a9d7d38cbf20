"""A person's line in the neighbourhood caseload, from the facts each service announced.

Pure: the same facts always give the same line, whatever order the events came in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from mdt.domain.person import Identity

# The front door's lifecycle: these states are still open (anything else is closed).
OPEN_REFERRAL = frozenset(
    {"received", "in_triage", "accepted", "routed", "more_info_requested", "in_progress"}
)
AWAITING_TRIAGE = frozenset({"received", "in_triage", "more_info_requested"})
URGENCY_RANK = {"emergency": 3, "urgent": 2, "routine": 1}
OPEN_ACTION = frozenset({"planned", "in_progress"})
ACTIVE_PLAN = "active"
# Wellbeing instruments, in the order a change is reported when several were recorded.
WELLBEING = ("swemwbs", "ons4")
FLAGS = ("core20plus5", "inclusion_health", "carer", "no_gp", "interpreter_needed")


class ReferralFacts(Protocol):
    @property
    def referral_id(self) -> uuid.UUID: ...
    @property
    def status(self) -> str: ...
    @property
    def urgency(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def received(self) -> bool: ...
    @property
    def breached_sla(self) -> bool: ...
    @property
    def for_carer_support(self) -> bool: ...


class PlanFacts(Protocol):
    @property
    def plan_id(self) -> uuid.UUID: ...
    @property
    def status(self) -> str | None: ...
    @property
    def sequence(self) -> int: ...
    @property
    def review_date(self) -> date | None: ...
    @property
    def neighbourhood(self) -> str | None: ...


class MemberFacts(Protocol):
    @property
    def member_id(self) -> uuid.UUID: ...
    @property
    def plan_id(self) -> uuid.UUID: ...
    @property
    def organisation(self) -> str | None: ...
    @property
    def team(self) -> str | None: ...
    @property
    def role(self) -> str | None: ...
    @property
    def key_worker(self) -> bool: ...
    @property
    def active(self) -> bool: ...


class ActionFacts(Protocol):
    @property
    def plan_id(self) -> uuid.UUID: ...
    @property
    def status(self) -> str: ...
    @property
    def due_date(self) -> date | None: ...


class MeasureFacts(Protocol):
    @property
    def measure_id(self) -> uuid.UUID: ...
    @property
    def instrument(self) -> str: ...
    @property
    def scale(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def change_since_first(self) -> float | None: ...
    @property
    def change_direction(self) -> str | None: ...


@dataclass(frozen=True)
class CaseloadLine:
    neighbourhood: str | None
    on_caseload: bool
    referral_id: uuid.UUID | None
    status: str | None
    urgency: str | None
    urgency_rank: int
    waiting_since: datetime | None
    open_referrals: int
    sla_breached: bool
    plan_id: uuid.UUID | None
    plan_status: str | None
    review_date: date | None
    care_team: list[dict[str, Any]]
    open_actions: int
    earliest_open_due: date | None
    wellbeing: dict[str, Any] | None
    deteriorated: list[str]
    deteriorating: bool
    flags: list[str]
    core20plus5: bool
    inclusion_health: bool
    carer: bool
    no_gp: bool
    interpreter_needed: bool


def _current_plan(plans: Sequence[PlanFacts]) -> PlanFacts | None:
    """The active plan if there is one, else the most recent: one per person in practice."""
    known = [p for p in plans if p.status is not None]
    if not known:
        return None
    return max(known, key=lambda p: (p.status == ACTIVE_PLAN, p.sequence, p.plan_id))


def _latest_by_instrument(measures: Sequence[MeasureFacts]) -> dict[str, MeasureFacts]:
    latest: dict[str, MeasureFacts] = {}
    for m in sorted(measures, key=lambda m: (m.recorded_at, m.measure_id)):
        latest[m.instrument] = m
    return latest


def _wellbeing(latest: dict[str, MeasureFacts]) -> dict[str, Any] | None:
    wellbeing = [latest[i] for i in WELLBEING if i in latest]
    if not wellbeing:
        return None
    m = max(wellbeing, key=lambda m: (m.recorded_at, m.measure_id))
    return {
        "instrument": m.instrument,
        "scale": m.scale,
        "score": m.value,
        "recorded_at": m.recorded_at.isoformat(),
        "change_since_first": m.change_since_first,
        "change_direction": m.change_direction,
    }


def summarise(
    identity: Identity,
    referrals: Sequence[ReferralFacts],
    plans: Sequence[PlanFacts],
    members: Sequence[MemberFacts],
    actions: Sequence[ActionFacts],
    measures: Sequence[MeasureFacts],
) -> CaseloadLine:
    received = [r for r in referrals if r.received]
    open_ = sorted(
        (r for r in received if r.status in OPEN_REFERRAL),
        key=lambda r: (r.received_at, r.referral_id),
    )
    newest_open = open_[-1] if open_ else None
    most_urgent = max(open_, key=lambda r: URGENCY_RANK.get(r.urgency, 0), default=None)
    plan = _current_plan(plans)
    plan_active = plan is not None and plan.status == ACTIVE_PLAN
    team = sorted(
        (m for m in members if m.active and plan is not None and m.plan_id == plan.plan_id),
        key=lambda m: (not m.key_worker, m.organisation or "", m.team or "", m.member_id),
    )
    open_actions = [
        a
        for a in actions
        if a.status in OPEN_ACTION and plan is not None and a.plan_id == plan.plan_id
    ]
    due = [a.due_date for a in open_actions if a.due_date is not None]
    latest = _latest_by_instrument(measures)
    deteriorated = sorted(i for i, m in latest.items() if m.change_direction == "deteriorated")
    inclusion_health = identity.known and not identity.has_nhs_number
    carer = any(r.for_carer_support for r in received)
    core20plus5 = identity.imd_quintile == 1 or inclusion_health or carer
    no_gp = identity.known and identity.gp_practice_code is None
    flagged = {
        "core20plus5": core20plus5,
        "inclusion_health": inclusion_health,
        "carer": carer,
        "no_gp": no_gp,
        "interpreter_needed": identity.interpreter_needed,
    }
    return CaseloadLine(
        neighbourhood=identity.neighbourhood or (plan.neighbourhood if plan else None),
        on_caseload=bool(open_) or plan_active,
        referral_id=newest_open.referral_id if newest_open else None,
        status=newest_open.status if newest_open else None,
        urgency=most_urgent.urgency if most_urgent else None,
        urgency_rank=URGENCY_RANK.get(most_urgent.urgency, 0) if most_urgent else 0,
        waiting_since=open_[0].received_at if open_ else None,
        open_referrals=len(open_),
        sla_breached=any(r.breached_sla for r in open_),
        plan_id=plan.plan_id if plan else None,
        plan_status=plan.status if plan else None,
        review_date=plan.review_date if plan else None,
        care_team=[
            {
                "member_id": str(m.member_id),
                "organisation": m.organisation,
                "team": m.team,
                "role": m.role,
                "key_worker": m.key_worker,
            }
            for m in team
        ],
        open_actions=len(open_actions),
        earliest_open_due=min(due) if due else None,
        wellbeing=_wellbeing(latest),
        deteriorated=deteriorated,
        deteriorating=bool(deteriorated),
        flags=[f for f in FLAGS if flagged[f]],
        core20plus5=core20plus5,
        inclusion_health=inclusion_health,
        carer=carer,
        no_gp=no_gp,
        interpreter_needed=identity.interpreter_needed,
    )


def meeting_reasons(
    *, sla_breached: bool, overdue_actions: int, deteriorated: Sequence[str]
) -> list[str]:
    """Why a person is put forward for the next MDT meeting, by rule."""
    reasons = []
    if sla_breached:
        reasons.append("Referral breached its triage response time")
    if overdue_actions:
        plural = "s" if overdue_actions > 1 else ""
        reasons.append(f"{overdue_actions} overdue plan action{plural}")
    for instrument in deteriorated:
        reasons.append(f"Deterioration in {instrument.upper()} since first measure")
    return reasons
