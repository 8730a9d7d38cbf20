"""Loading and saving referrals."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from referrals.domain.referral import Person, Referral, Source, Status, Urgency
from referrals.store.tables import ReferralRow


def to_row(referral: Referral, created_by: str) -> ReferralRow:
    p = referral.person
    return ReferralRow(
        id=referral.id,
        person_id=p.person_id,
        nhs_number=p.nhs_number,
        given_name=p.given_name,
        family_name=p.family_name,
        birth_date=p.birth_date,
        postcode=p.postcode,
        gp_practice_code=p.gp_practice_code,
        neighbourhood=referral.neighbourhood,
        borough=referral.borough,
        imd_quintile=referral.imd_quintile,
        source=referral.source.value,
        urgency=referral.urgency.value,
        reason_codes=list(referral.reason_codes),
        story=referral.story,
        referrer_org=referral.referrer_org,
        referrer_name=referral.referrer_name,
        status=referral.status.value,
        version=referral.version,
        received_at=referral.received_at,
        created_by=created_by,
    )


def from_row(row: ReferralRow) -> Referral:
    birth: date | None = row.birth_date
    return Referral(
        id=row.id,
        person=Person(
            person_id=row.person_id,
            nhs_number=row.nhs_number,
            given_name=row.given_name,
            family_name=row.family_name,
            birth_date=birth,
            postcode=row.postcode,
            gp_practice_code=row.gp_practice_code,
        ),
        source=Source(row.source),
        urgency=Urgency(row.urgency),
        reason_codes=tuple(row.reason_codes),
        story=row.story,
        referrer_org=row.referrer_org,
        referrer_name=row.referrer_name,
        neighbourhood=row.neighbourhood,
        borough=row.borough,
        imd_quintile=row.imd_quintile,
        status=Status(row.status),
        version=row.version,
        received_at=row.received_at,
    )


async def get(session: AsyncSession, referral_id: uuid.UUID) -> Referral | None:
    row = await session.get(ReferralRow, referral_id)
    return from_row(row) if row else None
