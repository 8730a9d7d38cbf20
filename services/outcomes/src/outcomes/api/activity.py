"""``/api/v1/referral-activity``: the front door's volumes by source and need and its time to
triage, for a period, for analysts (published figures only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from carethread.service import UoWDep
from outcomes import reporting
from outcomes.api.dependencies import Analyst, Now, Settings
from outcomes.api.indicator_schemas import DisclosureOut, PeriodOut
from outcomes.api.indicators import PeriodText, disclosure, period_out, policy
from outcomes.domain import activity
from outcomes.domain.periods import Period
from outcomes.store.tables import ReferralFactRow

router = APIRouter(prefix="/api/v1/referral-activity", tags=["indicators"])


class VolumeOut(BaseModel):
    group: str
    referrals: int | None
    suppressed: bool


class TimeToTriageOut(BaseModel):
    triaged: int | None
    median_hours: float | None
    p90_hours: float | None
    suppressed: bool


class ActivityOut(BaseModel):
    period: PeriodOut | None
    by_source: list[VolumeOut]
    by_need: list[VolumeOut]
    time_to_triage: TimeToTriageOut
    disclosure: DisclosureOut


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@router.get("", response_model=ActivityOut)
async def get_referral_activity(
    uow: UoWDep, user: Analyst, settings: Settings, now: Now, period_text: PeriodText = None
) -> ActivityOut:
    """Referrals received in the period (the last twelve months if none) by source and by
    need (a referral with two needs counts under each), and the median and 90th percentile
    hours from receipt to the first triage decision."""
    when = reporting.period(period_text) or Period(
        "last-12-months", now.date() - timedelta(days=365), now.date() + timedelta(days=1)
    )
    rows = (
        await uow.session.execute(
            select(
                ReferralFactRow.source,
                ReferralFactRow.reason_codes,
                ReferralFactRow.received_at,
                ReferralFactRow.triaged_at,
            ).where(
                ReferralFactRow.received_at >= _at(when.start),
                ReferralFactRow.received_at < _at(when.end),
                # The copy of the person's opt-out (theirs, or a merged id's).
                ReferralFactRow.person_opted_out.is_(False),
            )
        )
    ).all()
    p = policy(settings)
    sources = activity.volumes((r.source or "unknown" for r in rows), p)
    needs = activity.volumes((code for r in rows for code in (r.reason_codes or [])), p)
    triage = activity.time_to_triage(
        ((r.received_at, r.triaged_at) for r in rows if r.received_at and r.triaged_at), p
    )
    return ActivityOut(
        period=period_out(when),
        by_source=[
            VolumeOut(group=v.group, referrals=v.referrals, suppressed=v.suppressed)
            for v in sources
        ],
        by_need=[
            VolumeOut(group=v.group, referrals=v.referrals, suppressed=v.suppressed) for v in needs
        ],
        time_to_triage=TimeToTriageOut(
            triaged=triage.triaged,
            median_hours=triage.median_hours,
            p90_hours=triage.p90_hours,
            suppressed=triage.suppressed,
        ),
        disclosure=disclosure(p),
    )
