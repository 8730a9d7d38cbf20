"""The overdue watch: when an open action's due date passes, say so once on the bus.

Run periodically by the service (``CARE_PLANS_OVERDUE_CHECK_SECONDS``) and on demand through
the API; on PostgreSQL concurrent runs skip each other's rows, and ``overdue_announced_for``
keeps it to one event per action and due date (a new due date that passes is announced again).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from care_plans import events
from care_plans.domain.calendar import local_date
from care_plans.domain.document import PlanDocument
from care_plans.settings import CarePlansSettings
from care_plans.store import plans as store
from carethread.db import UnitOfWork
from carethread.events import topics
from carethread.messaging import add_to_outbox
from carethread.observability.logging import get_logger
from carethread.service import ServiceRuntime

log = get_logger(__name__)
BATCH = 500


async def announce_overdue_actions(uow: UnitOfWork, *, now: datetime, limit: int = BATCH) -> int:
    """Publish an overdue event for each open action due before today; how many."""
    rows = await store.unannounced_overdue(uow.session, local_date(now), limit)
    # A batch reads its plans and persons in one statement, each plan parsed once.
    found = await store.plans_with_persons(uow.session, {row.plan_id for row in rows})
    documents: dict[uuid.UUID, PlanDocument] = {}
    for row in rows:
        if row.plan_id not in found:  # cannot happen: foreign keys
            continue
        plan, person = found[row.plan_id]
        if plan.id not in documents:
            documents[plan.id] = PlanDocument.model_validate(plan.document)
        document = documents[plan.id]
        action = next((a for a in document.actions if a.id == row.id), None)
        if action is None:
            continue
        # A plan kept under a merged id (``merges``) is announced under the person's id now.
        person_id = person.merged_into or plan.person_id
        ctx = events.PlanContext(
            plan_id=plan.id,
            person_id=person_id,
            neighbourhood=person.neighbourhood,
            version=plan.version,
            org=None,
            at=now,
        )
        event = events.action_overdue(ctx, action, document)
        await add_to_outbox(uow, event, topic=topics.CARE_PLANS, key=str(person_id))
        row.overdue_announced_for = row.due_date
    await uow.session.flush()
    return len(rows)


async def watch_overdue(runtime: ServiceRuntime) -> None:
    """Every ``overdue_check_seconds``, announce what has become overdue (draining a backlog
    in batches); 0 turns the watch off. Errors are logged and tried again next time."""
    settings = runtime.settings
    interval = settings.overdue_check_seconds if isinstance(settings, CarePlansSettings) else 300
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            while True:
                async with runtime.uow() as uow:
                    count = await announce_overdue_actions(uow, now=datetime.now(UTC))
                    await uow.commit()
                if count:
                    log.info("overdue actions announced", count=count)
                if count < BATCH:
                    break
        except Exception:
            log.exception("overdue watch failed; trying again next time")
