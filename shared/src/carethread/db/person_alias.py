"""Person merges as every consumer keeps them: the ids merged into others.

The front door publishes ``person.merged`` when a trace finds the NHS number of someone it
had recorded under an id of its own (see the architecture notes). Each service that holds
people keeps, in its own database, a ``person_alias`` table of the ids merged away and the
id each is now, so that a later event or request naming an old id reaches the person."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from carethread.db.base import UtcDateTime


class PersonAliasColumns:
    """The columns every service's ``person_alias`` table has (a declarative mixin)."""

    merged_person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    merged_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)


async def current_person_id(session: AsyncSession, alias: Any, person_id: uuid.UUID) -> uuid.UUID:
    """The id the person named ``person_id`` has now: the id it was merged into, if it was
    (``alias``: the service's ``person_alias`` row class), else itself."""
    merged_into: uuid.UUID | None = await session.scalar(
        select(alias.person_id).where(alias.merged_person_id == person_id)
    )
    return merged_into or person_id
