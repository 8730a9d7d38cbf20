"""Loading and saving persons, plans and their versions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from care_plans.domain.access import CLOSED_REFERRAL, OpenReferral
from care_plans.domain.document import OPEN_ACTION, PlanDocument
from care_plans.domain.patch import apply_patch
from care_plans.store.tables import (
    BreakGlassRow,
    CarePlanRow,
    PersonAliasRow,
    PersonReferralRow,
    PersonRow,
    PlanActionRow,
    PlanVersionRow,
)
from carethread.db import on_postgres
from carethread.db.tables import AuditRow


async def person(session: AsyncSession, person_id: uuid.UUID) -> PersonRow | None:
    return await session.get(PersonRow, person_id)


# Two-key advisory locks (a space of their own, apart from single-key ones): this service's
# person locks, keyed by the first 32 bits of the id (a clash only makes two people wait).
_PERSON_LOCKS = 0x4350
_LOCK_PERSON = text("SELECT pg_advisory_xact_lock(:space, :key)")


async def lock_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Hold ``person_id`` to the end of the transaction (PostgreSQL; SQLite runs one writer
    at a time), so that a merge and an event for either of its ids apply one after the
    other: each then sees what the other did. Taken in the order event id, then the id it
    resolves to, so two holders never wait on each other."""
    if not on_postgres(session):
        return
    key = int.from_bytes(person_id.bytes[:4], "big", signed=True)
    await session.execute(_LOCK_PERSON, {"space": _PERSON_LOCKS, "key": key})


async def survivor_of(session: AsyncSession, person_id: uuid.UUID) -> uuid.UUID | None:
    """The id ``person_id`` was merged into, if the front door merged it."""
    alias = await session.get(PersonAliasRow, person_id)
    return alias.person_id if alias is not None else None


async def current_person(
    session: AsyncSession, person_id: uuid.UUID, *, lock: bool = False
) -> tuple[uuid.UUID, PersonRow | None]:
    """The id the person known as ``person_id`` has now — itself, or the id it was merged
    into — with their record if there is one. Only an unknown or merged id costs a second
    look (at ``person_alias``). ``lock``: both ids are held (``lock_person``), for a writer."""
    if lock:
        await lock_person(session, person_id)
    row = await session.get(PersonRow, person_id)
    if row is not None and row.merged_into is None:
        return person_id, row
    survivor = await survivor_of(session, person_id)
    if survivor is None:
        return person_id, row
    if lock:
        await lock_person(session, survivor)
    return survivor, await session.get(PersonRow, survivor)


async def merged_ids(session: AsyncSession, person_id: uuid.UUID) -> list[uuid.UUID]:
    """The ids merged into ``person_id``."""
    rows = await session.scalars(
        select(PersonAliasRow.merged_person_id).where(PersonAliasRow.person_id == person_id)
    )
    return list(rows.all())


async def records_to_combine(
    session: AsyncSession, person_id: uuid.UUID
) -> list[tuple[PersonAliasRow, CarePlanRow]]:
    """The records kept under ids merged into ``person_id`` that the care team has not yet
    combined, each with its plan, in the order they were merged."""
    rows = await session.execute(
        select(PersonAliasRow, CarePlanRow)
        .join(CarePlanRow, CarePlanRow.person_id == PersonAliasRow.merged_person_id)
        .where(
            PersonAliasRow.person_id == person_id,
            PersonAliasRow.record_kept.is_(True),
            PersonAliasRow.combined_at.is_(None),
        )
        .order_by(PersonAliasRow.merged_at, PersonAliasRow.merged_person_id)
    )
    return [(alias, plan) for alias, plan in rows]


async def person_by_nhs_number(session: AsyncSession, nhs_number: str) -> PersonRow | None:
    row: PersonRow | None = await session.scalar(
        select(PersonRow).where(PersonRow.nhs_number == nhs_number)
    )
    return row


async def plan_for(
    session: AsyncSession, person_id: uuid.UUID, *, for_update: bool = False
) -> CarePlanRow | None:
    query = select(CarePlanRow).where(CarePlanRow.person_id == person_id)
    if for_update:
        # Row lock on PostgreSQL: concurrent editors queue here and the later one then sees
        # the version the earlier one saved. SQLite serialises writers (BEGIN IMMEDIATE).
        query = query.with_for_update()
    row: CarePlanRow | None = await session.scalar(query)
    return row


async def person_and_plan(
    session: AsyncSession, person_id: uuid.UUID, *, for_update: bool = False
) -> tuple[PersonRow, CarePlanRow] | None:
    """Both in one round trip (every request to a record needs both); ``for_update`` locks
    the plan row, as ``plan_for`` does."""
    query = (
        select(PersonRow, CarePlanRow)
        .join(CarePlanRow, CarePlanRow.person_id == PersonRow.id)
        .where(PersonRow.id == person_id)
    )
    if for_update:
        query = query.with_for_update(of=CarePlanRow)
    found = (await session.execute(query)).first()
    return (found[0], found[1]) if found else None


async def plan(session: AsyncSession, plan_id: uuid.UUID) -> CarePlanRow | None:
    return await session.get(CarePlanRow, plan_id)


async def plans_with_persons(
    session: AsyncSession, plan_ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[CarePlanRow, PersonRow]]:
    """Plans by id, each with its person: one statement for a batch of them."""
    rows = await session.execute(
        select(CarePlanRow, PersonRow)
        .join(PersonRow, PersonRow.id == CarePlanRow.person_id)
        .where(CarePlanRow.id.in_(sorted(plan_ids)))
    )
    return {plan.id: (plan, person) for plan, person in rows}


HISTORY_COLUMNS = (
    PlanVersionRow.version,
    PlanVersionRow.changed_by,
    PlanVersionRow.changed_by_name,
    PlanVersionRow.organisation,
    PlanVersionRow.role,
    PlanVersionRow.changed_at,
    PlanVersionRow.reason,
    PlanVersionRow.changes,
)


async def versions(
    session: AsyncSession, plan_id: uuid.UUID, *, after: int, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` versions numbered above ``after``, oldest first: their attribution and
    changed paths, without the documents themselves (plain rows: a history is read often and
    is never changed). One statement, along the primary key."""
    result = await session.execute(
        select(*HISTORY_COLUMNS)
        .where(PlanVersionRow.plan_id == plan_id, PlanVersionRow.version > after)
        .order_by(PlanVersionRow.version)
        .limit(limit)
    )
    return [dict(row._mapping) for row in result]


async def version(session: AsyncSession, plan_id: uuid.UUID, number: int) -> PlanVersionRow | None:
    """Version ``number`` with its ``document`` rebuilt (from the snapshot before it and the
    patches since) when it was stored as a patch. The row is detached: never saved again."""
    rows = list(
        (
            await session.scalars(
                select(PlanVersionRow)
                .where(
                    PlanVersionRow.plan_id == plan_id,
                    PlanVersionRow.version <= number,
                    PlanVersionRow.version
                    >= select(func.max(PlanVersionRow.version))
                    .where(
                        PlanVersionRow.plan_id == plan_id,
                        PlanVersionRow.version <= number,
                        PlanVersionRow.document.is_not(None),
                    )
                    .scalar_subquery(),
                )
                .order_by(PlanVersionRow.version)
            )
        ).all()
    )
    if not rows or rows[-1].version != number:
        return None
    document = rows[0].document
    for row in rows[1:]:
        document = apply_patch(document, row.patch or [])
    target = rows[-1]
    session.expunge(target)
    target.document = document
    return target


async def open_referrals(session: AsyncSession, person_id: uuid.UUID) -> list[OpenReferral]:
    rows = await session.scalars(
        select(PersonReferralRow).where(
            PersonReferralRow.person_id == person_id,
            PersonReferralRow.status.not_in(sorted(CLOSED_REFERRAL)),
        )
    )
    return [OpenReferral(r.referrer_org, r.destination_id) for r in rows.all()]


async def has_open_break_glass(
    session: AsyncSession, person_id: uuid.UUID, actor: str, now: datetime
) -> bool:
    found = await session.scalar(
        select(BreakGlassRow.id)
        .where(
            BreakGlassRow.person_id == person_id,
            BreakGlassRow.actor == actor,
            BreakGlassRow.expires_at > now,
        )
        .limit(1)
    )
    return found is not None


async def sync_actions(
    session: AsyncSession, row: CarePlanRow, before: PlanDocument, after: PlanDocument
) -> None:
    """Make ``plan_action`` follow the plan's actions from ``before`` to ``after``, keeping
    what was announced. The rows equal ``before``'s actions (every save comes here), so the
    change is worked out from the two documents without reading the rows first."""
    old = {a.id: a for a in before.actions}
    wanted = {a.id for a in after.actions}
    gone = [action_id for action_id in old if action_id not in wanted]
    if gone:
        await session.execute(
            delete(PlanActionRow).where(PlanActionRow.plan_id == row.id, PlanActionRow.id.in_(gone))
        )
    changed = []
    for a in after.actions:
        previous = old.get(a.id)
        if previous is None:
            session.add(
                PlanActionRow(
                    id=a.id,
                    plan_id=row.id,
                    person_id=row.person_id,
                    status=a.status.value,
                    due_date=a.due_date,
                )
            )
        elif (previous.status, previous.due_date) != (a.status, a.due_date):
            changed.append(
                {"plan_id": row.id, "id": a.id, "status": a.status.value, "due_date": a.due_date}
            )
    if changed:  # one statement for them all (an update by primary key, executemany)
        await session.execute(update(PlanActionRow), changed)


async def unannounced_overdue(
    session: AsyncSession, today: date, limit: int
) -> list[PlanActionRow]:
    """Open actions due before ``today`` whose overdue event is not out yet."""
    rows = await session.scalars(
        select(PlanActionRow)
        .where(
            PlanActionRow.status.in_(sorted(s.value for s in OPEN_ACTION)),
            PlanActionRow.due_date < today,
            (PlanActionRow.overdue_announced_for.is_(None))
            | (PlanActionRow.overdue_announced_for != PlanActionRow.due_date),
        )
        .order_by(PlanActionRow.due_date, PlanActionRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


async def access_log(session: AsyncSession, person_id: uuid.UUID, limit: int) -> list[AuditRow]:
    """The audit of the person's record, under their id and any id merged into it (audit
    rows are never rewritten: the log reads both)."""
    ids = [person_id, *await merged_ids(session, person_id)]
    rows = await session.scalars(
        select(AuditRow)
        .where(AuditRow.person_id.in_(ids))
        .order_by(AuditRow.recorded_at.desc())
        .limit(limit)
    )
    return list(rows.all())
