"""What every read of the view shares: the bounded wait for a caller's own write, the
freshness it reports, and who may see which neighbourhood."""

from __future__ import annotations

import functools
import uuid
from typing import Annotated

from fastapi import Query

from carethread.auth import Principal
from carethread.db import UnitOfWork
from carethread.errors import Forbidden, NotFound
from carethread.reference import Geography, Neighbourhood, load_geography
from carethread.service import RuntimeDep
from mdt.api.schemas import Freshness, SourceFreshness
from mdt.store import queries

MinEvent = Annotated[uuid.UUID | None, Query(description="an event id a write returned")]
WaitMs = Annotated[
    int, Query(ge=0, le=30_000, description="how long to wait for min_event (bounded)")
]
VIEW_ALL_ROLES = ("admin", "analyst")


async def freshness(
    runtime: RuntimeDep, uow: UnitOfWork, min_event: uuid.UUID | None, wait_ms: int
) -> Freshness:
    """Wait (never longer than the service allows) for ``min_event``, then say how fresh
    the view is; ``caught_up`` is False when the wait ran out first."""
    caught_up = True
    if min_event is not None:
        bound = min(wait_ms, getattr(runtime.settings, "max_wait_ms", 10_000))
        caught_up = await queries.wait_for_event(runtime.sessions, min_event, bound)
    rows = await queries.freshness(uow.session)
    return Freshness(
        sources={
            r.source_service: SourceFreshness(
                last_event_id=r.last_event_id,
                last_event_time=r.last_event_time,
                applied_at=r.applied_at,
                events_applied=r.events_applied,
            )
            for r in rows
        },
        waited_for=min_event,
        caught_up=caught_up,
    )


@functools.cache
def geography() -> Geography:
    """The reference data, read once (it is configuration: it changes with a deployment)."""
    return load_geography()


def sees_every_neighbourhood(user: Principal) -> bool:
    return user.has_any_role(VIEW_ALL_ROLES)


def neighbourhood_for(user: Principal, neighbourhood: str) -> Neighbourhood:
    """The neighbourhood, if it exists (404) and the token gives access to it (403)."""
    known = geography().neighbourhoods.get(neighbourhood)
    if known is None:
        raise NotFound(f"No neighbourhood {neighbourhood}.")
    if neighbourhood not in user.neighbourhoods and not sees_every_neighbourhood(user):
        raise Forbidden(f"Your token does not give access to neighbourhood {neighbourhood}.")
    return known
