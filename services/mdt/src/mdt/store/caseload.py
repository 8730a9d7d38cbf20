"""Reads of a neighbourhood's caseload: filtered, sorted and paged lines, headline numbers,
the people the rules put forward for the MDT meeting."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mdt.domain.caseload import ACTIVE_PLAN, AWAITING_TRIAGE, OPEN_ACTION, OPEN_REFERRAL
from mdt.store.tables import CaseloadPersonRow, CaseloadReferralRow, PlanActionRow

P = CaseloadPersonRow
FLAG_COLUMNS = {
    "core20plus5": P.core20plus5,
    "inclusion_health": P.inclusion_health,
    "carer": P.carer,
    "no_gp": P.no_gp,
    "interpreter_needed": P.interpreter_needed,
}
# Sort keys: the oldest wait first is what a coordinator preparing the meeting looks at.
SORTS: dict[str, list[Any]] = {
    "waiting": [P.waiting_since.is_(None), P.waiting_since],
    "urgency": [P.urgency_rank.desc(), P.waiting_since.is_(None), P.waiting_since],
    "name": [P.family_name, P.given_name],
    "review_date": [P.review_date.is_(None), P.review_date],
}


@dataclass(frozen=True)
class CaseloadQuery:
    neighbourhood: str
    today: date
    status: str | None = None
    urgency: str | None = None
    flags: Sequence[str] = ()
    sla_breached: bool | None = None
    overdue: bool | None = None
    active_plan: bool | None = None
    awaiting_triage: bool | None = None
    sort: str = "waiting"
    limit: int = 100
    offset: int = 0


def _overdue(today: date) -> ColumnElement[bool]:
    return and_(P.earliest_open_due.is_not(None), P.earliest_open_due < today)


def for_meeting(today: date) -> ColumnElement[bool]:
    """The rules that put someone forward for discussion."""
    return or_(P.sla_breached.is_(True), _overdue(today), P.deteriorating.is_(True))


def _on_caseload(neighbourhood: str) -> list[ColumnElement[bool]]:
    return [P.neighbourhood == neighbourhood, P.on_caseload.is_(True)]


def _where(q: CaseloadQuery) -> list[ColumnElement[bool]]:
    where = _on_caseload(q.neighbourhood)
    if q.status is not None:
        where.append(P.status == q.status)
    if q.urgency is not None:
        where.append(P.urgency == q.urgency)
    where += [FLAG_COLUMNS[f].is_(True) for f in q.flags]
    if q.sla_breached is not None:
        where.append(P.sla_breached.is_(q.sla_breached))
    if q.overdue is not None:
        where.append(_overdue(q.today) if q.overdue else ~_overdue(q.today))
    if q.active_plan is not None:
        active = and_(P.plan_status.is_not(None), P.plan_status == ACTIVE_PLAN)
        where.append(active if q.active_plan else ~active)
    if q.awaiting_triage is not None:
        awaiting = and_(P.status.is_not(None), P.status.in_(AWAITING_TRIAGE))
        where.append(awaiting if q.awaiting_triage else ~awaiting)
    return where


async def caseload(
    session: AsyncSession, q: CaseloadQuery, *, extra: Sequence[ColumnElement[bool]] = ()
) -> tuple[int, list[CaseloadPersonRow]]:
    where = [*_where(q), *extra]
    total = await session.scalar(select(func.count()).select_from(P).where(*where))
    rows = await session.scalars(
        select(P)
        .where(*where)
        .order_by(*SORTS[q.sort], P.person_id)
        .limit(q.limit)
        .offset(q.offset)
    )
    return total or 0, list(rows.all())


async def overdue_actions(
    session: AsyncSession, people: Sequence[CaseloadPersonRow], today: date
) -> dict[uuid.UUID, int]:
    """How many of each person's current plan's open actions are past their due date."""
    plans = [p.plan_id for p in people if p.plan_id is not None]
    if not plans:
        return {}
    rows = await session.execute(
        select(PlanActionRow.person_id, func.count())
        .where(
            PlanActionRow.plan_id.in_(plans),
            PlanActionRow.status.in_(OPEN_ACTION),
            PlanActionRow.due_date < today,
        )
        .group_by(PlanActionRow.person_id)
    )
    return {person_id: count for person_id, count in rows}


async def open_referrals(
    session: AsyncSession, people: Sequence[CaseloadPersonRow]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    ids = [p.person_id for p in people]
    if not ids:
        return {}
    R = CaseloadReferralRow
    rows = await session.execute(
        select(R.person_id, R.referral_id)
        .where(R.person_id.in_(ids), R.received, R.status.in_(OPEN_REFERRAL))
        .order_by(R.received_at, R.referral_id)
    )
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    for person_id, referral_id in rows:
        out.setdefault(person_id, []).append(referral_id)
    return out


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def headline(session: AsyncSession, neighbourhood: str, today: date) -> dict[str, int]:
    """The neighbourhood's numbers, counted over everyone on its caseload."""
    awaiting = and_(P.status.is_not(None), P.status.in_(AWAITING_TRIAGE))
    active = and_(P.plan_status.is_not(None), P.plan_status == ACTIVE_PLAN)
    counts = {
        "people": func.count(),
        "awaiting_triage": _count_if(awaiting),
        "open_referrals": func.coalesce(func.sum(P.open_referrals), 0),
        "active_plans": _count_if(active),
        "sla_breached": _count_if(P.sla_breached.is_(True)),
        "with_overdue_actions": _count_if(_overdue(today)),
        "deteriorating": _count_if(P.deteriorating.is_(True)),
        "for_meeting": _count_if(for_meeting(today)),
        **{flag: _count_if(column.is_(True)) for flag, column in FLAG_COLUMNS.items()},
    }
    row = (
        await session.execute(select(*counts.values()).where(*_on_caseload(neighbourhood)))
    ).one()
    return {name: int(value or 0) for name, value in zip(counts, row, strict=True)}


async def people_by_neighbourhood(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(P.neighbourhood, func.count())
        .where(P.on_caseload.is_(True))
        .group_by(P.neighbourhood)
    )
    return {n: c for n, c in rows if n is not None}
