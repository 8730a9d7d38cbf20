"""What the relationship rule needs to know about a person."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carethread.db import current_person_id
from mdt.domain.access import OpenReferral
from mdt.domain.caseload import OPEN_REFERRAL
from mdt.store.tables import (
    CareTeamMemberRow,
    CaseloadPersonRow,
    CaseloadReferralRow,
    PersonAliasRow,
)


async def care_teams(session: AsyncSession, person_id: uuid.UUID) -> list[str]:
    """The teams of the person's current care team."""
    rows = await session.scalars(
        select(CareTeamMemberRow.team)
        .join(
            CaseloadPersonRow,
            (CaseloadPersonRow.person_id == CareTeamMemberRow.person_id)
            & (CaseloadPersonRow.plan_id == CareTeamMemberRow.plan_id),
        )
        .where(CareTeamMemberRow.person_id == person_id, CareTeamMemberRow.active.is_(True))
    )
    return [t for t in rows if t is not None]


async def open_referrals(session: AsyncSession, person_id: uuid.UUID) -> list[OpenReferral]:
    R = CaseloadReferralRow
    rows = await session.execute(
        select(R.referrer_org, R.destination_id).where(
            R.person_id == person_id, R.received.is_(True), R.status.in_(OPEN_REFERRAL)
        )
    )
    return [OpenReferral(org, destination) for org, destination in rows]


async def is_known(session: AsyncSession, person_id: uuid.UUID) -> bool:
    return await session.get(CaseloadPersonRow, person_id) is not None


async def current_id(session: AsyncSession, person_id: uuid.UUID) -> uuid.UUID:
    """The id the person is known by now (``store.merges``)."""
    return await current_person_id(session, PersonAliasRow, person_id)
