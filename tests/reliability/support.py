"""What the reliability tests share: reading projections straight from a service's database,
and running the real `carethread replay` command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

from sqlalchemy import func, select

from carethread.db import create_engine, session_factory
from carethread.db.tables import InboxRow, OutboxRow
from carethread.settings import KafkaSettings
from mdt.store.tables import CaseloadReferralRow, TimelineEntryRow
from outcomes.store.tables import ReferralVolumeRow
from tests.stack import kafka_env

Row = tuple[object, ...]


async def scalar_int(url: str, query: object) -> int:
    engine = create_engine(url, reader=True)  # never holds up the service writing it
    async with session_factory(engine)() as s:
        value = await s.scalar(query)  # type: ignore[call-overload]
    await engine.dispose()
    return int(value or 0)


async def inbox_count(url: str) -> int:
    """Referrals applied: the view also applies the front door's person events, so the
    referrals' own inbox rows are the ones that say "each applied once"."""
    query = (
        select(func.count())
        .select_from(InboxRow)
        .where(InboxRow.event_type == "carethread.referral.received.v1")
    )
    return await scalar_int(url, query)


async def outbox_size(url: str) -> int:
    return await scalar_int(url, select(func.count()).select_from(OutboxRow))


async def unpublished(url: str) -> int:
    query = select(func.count()).select_from(OutboxRow).where(OutboxRow.published_at.is_(None))
    return await scalar_int(url, query)


async def referral_volume(url: str) -> int:
    return await scalar_int(url, select(func.coalesce(func.sum(ReferralVolumeRow.referrals), 0)))


async def mdt_projection(url: str) -> tuple[list[Row], list[Row]]:
    """The MDT view's content, without the times it was applied at."""
    engine = create_engine(url, reader=True)  # never holds up the service writing it
    async with session_factory(engine)() as s:
        caseload = (
            await s.execute(
                select(
                    CaseloadReferralRow.referral_id,
                    CaseloadReferralRow.person_id,
                    CaseloadReferralRow.neighbourhood,
                    CaseloadReferralRow.given_name,
                    CaseloadReferralRow.family_name,
                    CaseloadReferralRow.birth_date,
                    CaseloadReferralRow.status,
                    CaseloadReferralRow.urgency,
                    CaseloadReferralRow.received_at,
                    CaseloadReferralRow.sequence,
                ).order_by(CaseloadReferralRow.referral_id)
            )
        ).all()
        timeline = (
            await s.execute(
                select(
                    TimelineEntryRow.event_id,
                    TimelineEntryRow.person_id,
                    TimelineEntryRow.occurred_at,
                    TimelineEntryRow.event_type,
                    TimelineEntryRow.summary,
                ).order_by(TimelineEntryRow.event_id)
            )
        ).all()
    await engine.dispose()
    return [tuple(r) for r in caseload], [tuple(r) for r in timeline]


def run_replay(
    referrals_db: str, kafka: KafkaSettings, since: datetime | None = None
) -> subprocess.CompletedProcess[str]:
    """`carethread replay --service referrals [--since]`, as an operator would run it."""
    args = [sys.executable, "-m", "carethread.cli", "replay", "--service", "referrals"]
    if since is not None:
        args += ["--since", since.isoformat()]
    env = {**os.environ, **kafka_env(kafka), "REFERRALS_DATABASE_URL": referrals_db}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result
