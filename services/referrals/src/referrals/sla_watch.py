"""The SLA watch: announces each referral that runs out of time before its triage decision.

Breaches are also computed on every read (the queue's ``breached`` flag); the event exists for
the services that keep their own picture — the MDT view's meeting list, the outcomes service's
response-time indicators — so that they learn of a breach when it happens, not at the next
change to the referral.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from carethread.db import UnitOfWork
from carethread.events import topics
from carethread.messaging import add_to_outbox
from carethread.observability.logging import get_logger
from carethread.service.runtime import ServiceRuntime
from referrals import events
from referrals.settings import ReferralsSettings
from referrals.store import referrals as store

log = get_logger(__name__)


async def publish_breaches(uow: UnitOfWork, *, now: datetime, limit: int = 500) -> int:
    """Publish one ``referral.sla-breached`` event per newly breached referral; returns how
    many. The caller commits."""
    rows = await store.unannounced_breaches(
        uow.session, now, limit=limit, skip_locked=uow.is_postgres
    )
    for row in rows:
        referral = store.from_row(row)
        event = events.sla_breached(referral, at=referral.triage_due_at)
        row.sla_breach_published_at = now
        await add_to_outbox(uow, event, topic=topics.REFERRALS, key=str(referral.person.person_id))
    await uow.session.flush()
    return len(rows)


async def watch_sla(runtime: ServiceRuntime) -> None:
    """Look for newly breached referrals every ``sla_watch_interval_s`` until cancelled."""
    settings = runtime.settings
    interval = settings.sla_watch_interval_s if isinstance(settings, ReferralsSettings) else 60
    while True:
        try:
            while True:  # drain a backlog (after downtime) before sleeping
                async with runtime.uow() as uow:
                    published = await publish_breaches(uow, now=datetime.now(UTC))
                    await uow.commit()
                if published:
                    log.info("SLA breaches published", count=published)
                if published < 500:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be down; the next round tries again
            log.exception("SLA watch failed; retrying")
        await asyncio.sleep(interval)
