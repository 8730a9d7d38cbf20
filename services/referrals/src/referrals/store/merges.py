"""Moving a person's rows from the id the front door minted to their NHS number's id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, delete, insert, select, update

from carethread.db import UnitOfWork, conflict_insert
from referrals.domain.person import Person
from referrals.store.people import person_columns
from referrals.store.tables import InvolvementRow, PersonMergeRow, PersonRow, ReferralRow

_PERSON = cast(Table, PersonRow.__table__)
_REFERRAL = cast(Table, ReferralRow.__table__)
_INVOLVEMENT = cast(Table, InvolvementRow.__table__)
_MERGE = cast(Table, PersonMergeRow.__table__)


async def earlier_merge(uow: UnitOfWork, person_id: uuid.UUID) -> Row[Any] | None:
    """The merge that took ``person_id`` away, if a trace has merged it already."""
    statement = select(_MERGE).where(_MERGE.c.merged_person_id == person_id)
    return (await uow.session.execute(statement)).first()


async def lock_people(uow: UnitOfWork, *people: uuid.UUID) -> dict[uuid.UUID, Row[Any]]:
    """The person rows of ``people`` that exist, locked until commit in key order (two
    traces, or a trace and an intake, never deadlock); SQLite runs one writer anyway."""
    statement = select(_PERSON).where(_PERSON.c.person_id.in_(people))
    statement = statement.order_by(_PERSON.c.person_id).with_for_update()
    return {row.person_id: row for row in await uow.session.execute(statement)}


async def boroughs_of(uow: UnitOfWork, person_id: uuid.UUID) -> list[str | None]:
    """The boroughs of the person's referrals (whose front doors may trace them)."""
    statement = select(_REFERRAL.c.borough).where(_REFERRAL.c.person_id == person_id)
    return list((await uow.session.scalars(statement.distinct())).all())


async def move_person(
    uow: UnitOfWork,
    *,
    old: uuid.UUID,
    survivor: Person,
    version: int,
    now: datetime,
) -> list[uuid.UUID]:
    """Keep ``survivor`` as the one record (at ``version``), drop the old id's, and move
    its referrals (which now carry the traced NHS number) and its care-team knowledge to
    the survivor's id. Returns the referrals moved."""
    session, new = uow.session, survivor.person_id
    await session.execute(delete(_PERSON).where(_PERSON.c.person_id == old))
    values = {"person_id": new, "version": version, "updated_at": now, **person_columns(survivor)}
    statement = conflict_insert(session, _PERSON)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[_PERSON.c.person_id],
            set_={name: statement.excluded[name] for name in values if name != "person_id"},
        ),
        values,
    )
    moved = await session.scalars(
        update(_REFERRAL)
        .where(_REFERRAL.c.person_id == old)
        .values(person_id=new, nhs_number=survivor.nhs_number)
        .returning(_REFERRAL.c.id)
    )
    referral_ids = sorted(moved.all(), key=str)
    await session.execute(
        update(_INVOLVEMENT).where(_INVOLVEMENT.c.person_id == old).values(person_id=new)
    )
    return referral_ids


async def record_merge(uow: UnitOfWork, **values: Any) -> None:
    await uow.session.execute(insert(_MERGE).values(**values))
