"""Events applied together when their unit of work commits.

The consumer hands a run of events (up to a poll) to the handlers in one unit of work.
Each handler only notes its event, with the rows it will touch; at commit those rows are
fetched in one query per table and the events applied in the order they came, so a run
costs a handful of queries instead of a lookup per event, and applying them one by one
or in any runs gives the same rows.

The work runs in the session's ``before_commit`` hook: under SQLAlchemy's asyncio
extension that hook runs inside the commit's greenlet, where the session may still query.
A failure there fails the commit, and the consumer applies the run's events one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from carethread.db import UnitOfWork
from outcomes.store.rows import Rows, keys_by_model

PENDING = "outcomes.pending_events"
Apply = Callable[[Rows], None]


@dataclass(frozen=True)
class Deferred:
    apply: Apply
    touches: tuple[tuple[type[Any], Any], ...]


def defer(uow: UnitOfWork, apply: Apply, *touches: tuple[type[Any], Any]) -> None:
    """Apply ``apply`` when ``uow`` commits, having fetched the rows in ``touches``
    (model and primary key) with the rest of the run's."""
    sync = uow.session.sync_session
    pending: list[Deferred] | None = sync.info.get(PENDING)
    if pending is None:
        pending = sync.info[PENDING] = []
        if not event.contains(sync, "before_commit", _apply_pending):
            event.listen(sync, "before_commit", _apply_pending)
    pending.append(Deferred(apply, touches))


def _apply_pending(session: Session) -> None:
    pending: list[Deferred] = session.info.pop(PENDING, [])
    if not pending:
        return
    rows = Rows(session)
    with session.no_autoflush:
        wanted = keys_by_model(t for d in pending for t in d.touches)
        for model, keys in wanted.items():
            rows.load(model, keys)
        for d in pending:
            d.apply(rows)
