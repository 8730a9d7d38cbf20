"""Indicator-updated events: the key indicators recomputed for the financial year so far,
ICS-wide (by IMD quintile) and per neighbourhood, announced where the published figures
moved. The MDT view shows each neighbourhood's; only published (suppressed and rounded)
figures ever leave the service."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, date, datetime

from sqlalchemy import text

from carethread.db import UnitOfWork
from carethread.events import new_event
from carethread.events.outcomes import IndicatorUpdatedV1, PublishedCell
from carethread.messaging import add_to_outbox
from carethread.observability.logging import get_logger
from carethread.service import ServiceRuntime
from outcomes import reporting
from outcomes.domain import breakdown
from outcomes.domain.disclosure import Policy
from outcomes.domain.indicators import BY_ID, Dimension
from outcomes.domain.periods import Period, parse_period
from outcomes.settings import OutcomesSettings
from outcomes.store.tables import IndicatorPublicationRow

log = get_logger(__name__)
KEY_INDICATORS = (
    "triaged-within-target",
    "social-prescription-uptake",
    "wellbeing-improved-after-social-prescribing",
)
ICS = "ics"
_LOCK = 0x0C7_0A7C0  # one announcer at a time across replicas (PostgreSQL advisory lock)


def financial_year(today: date) -> Period:
    return parse_period(f"FY{today.year if today.month >= 4 else today.year - 1}")


def _cell(c: breakdown.PublishedCell) -> PublishedCell:
    return PublishedCell(
        group=" / ".join(c.group) or "all",
        numerator=c.numerator,
        denominator=c.denominator,
        value=c.value,
        suppressed=c.suppressed,
    )


def _fingerprint(data: IndicatorUpdatedV1) -> str:
    figures = data.model_dump(mode="json", exclude={"computed_at"})
    return hashlib.sha256(json.dumps(figures, sort_keys=True).encode()).hexdigest()


async def _announce(uow: UnitOfWork, data: IndicatorUpdatedV1, scope: str, now: datetime) -> bool:
    fingerprint = _fingerprint(data)
    row = await uow.session.get(IndicatorPublicationRow, (data.indicator_id, scope))
    if row is not None and row.fingerprint == fingerprint:
        return False
    if row is None:
        uow.session.add(
            IndicatorPublicationRow(
                indicator_id=data.indicator_id,
                scope=scope,
                fingerprint=fingerprint,
                published_at=now,
            )
        )
    else:
        row.fingerprint, row.published_at = fingerprint, now
    event = new_event(
        data, subject=data.indicator_id, person_id=None, neighbourhood=data.neighbourhood
    )
    await add_to_outbox(
        uow, event, topic=IndicatorUpdatedV1.topic, key=f"{data.indicator_id}:{scope}"
    )
    return True


async def announce_indicators(uow: UnitOfWork, *, now: datetime, policy: Policy) -> int:
    """Announce every key indicator whose published figures moved; returns how many events.
    The caller commits."""
    if uow.is_postgres and not await uow.session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK}
    ):
        return 0  # another replica is announcing
    period = financial_year(now.date())
    sent = 0
    for indicator_id in KEY_INDICATORS:
        ind = BY_ID[indicator_id]
        common = {
            "indicator_id": indicator_id,
            "period_start": period.start,
            "period_end": period.last_day,
            "computed_at": now,
        }
        ics = await reporting.compute(
            uow, ind, [Dimension.IMD_QUINTILE], period, policy, today=now.date()
        )
        data = IndicatorUpdatedV1(
            **common,
            by=Dimension.IMD_QUINTILE.value,
            overall=_cell(ics.overall),
            cells=[_cell(c) for c in ics.cells],
        )
        sent += await _announce(uow, data, ICS, now)
        areas = await reporting.compute(
            uow, ind, [Dimension.NEIGHBOURHOOD], period, policy, today=now.date()
        )
        for cell in areas.cells:
            neighbourhood = cell.group[0]
            if neighbourhood == breakdown.UNKNOWN:
                continue
            data = IndicatorUpdatedV1(**common, neighbourhood=neighbourhood, overall=_cell(cell))
            sent += await _announce(uow, data, neighbourhood, now)
    await uow.session.flush()
    return sent


async def announce_periodically(runtime: ServiceRuntime) -> None:
    """Background job: recompute and announce every ``indicator_publish_interval_s``."""
    settings = runtime.settings
    outcomes = settings if isinstance(settings, OutcomesSettings) else OutcomesSettings()
    policy = Policy(max_small=outcomes.suppress_up_to, round_to=outcomes.round_to)
    while True:
        await asyncio.sleep(outcomes.indicator_publish_interval_s)
        try:
            async with runtime.uow() as uow:
                sent = await announce_indicators(uow, now=datetime.now(UTC), policy=policy)
                await uow.commit()
            if sent:
                log.info("indicator updates announced", count=sent)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be down; the next round tries again
            log.exception("announcing indicators failed; retrying")
