"""Background job: build the tallies of every indicator whose definition they were not
built for (a new database, a new or changed indicator), once, when the service starts.
Until they are built, breakdowns count the units themselves, with the same results."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session

from carethread.observability.logging import get_logger
from carethread.service import ServiceRuntime
from outcomes.store import tallies

log = get_logger(__name__)
RETRY_S = 30.0


def _build_stale(session: Session) -> int:
    stale = tallies.stale(session)
    if stale:
        tallies.rebuild(session, stale)
    return len(stale)


async def build_stale_tallies(runtime: ServiceRuntime) -> None:
    while True:
        try:
            async with runtime.uow() as uow:
                built = await uow.session.run_sync(_build_stale)
                await uow.commit()
            if built:
                log.info("indicator tallies built", indicators=built)
            return
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be down: try again later
            log.exception("building indicator tallies failed; retrying")
            await asyncio.sleep(RETRY_S)
