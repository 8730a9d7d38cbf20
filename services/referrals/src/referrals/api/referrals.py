"""``/api/v1/referrals``: the JSON front door."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from carethread.auth import CurrentUser, Principal, require_roles
from carethread.reference import load_geography
from carethread.service import UoWDep
from referrals import use_cases
from referrals.api.schemas import ReferralCreate, ReferralRead, WriteReceipt
from referrals.domain.referral import Referral

router = APIRouter(prefix="/api/v1/referrals", tags=["referrals"])
Referrer = Annotated[Principal, Depends(require_roles("referrer", "triager", "admin"))]


def to_read(r: Referral) -> ReferralRead:
    return ReferralRead(
        id=r.id,
        person_id=r.person.person_id,
        status=r.status.value,
        urgency=r.urgency,
        source=r.source,
        reasons=list(r.reason_codes),
        neighbourhood=r.neighbourhood,
        borough=r.borough,
        referrer_org=r.referrer_org,
        received_at=r.received_at,
        version=r.version,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WriteReceipt)
async def create_referral(body: ReferralCreate, uow: UoWDep, user: Referrer) -> WriteReceipt:
    received = await use_cases.receive_referral(uow, body, user, load_geography())
    await uow.commit()
    return WriteReceipt(
        referral_id=received.referral.id,
        person_id=received.referral.person.person_id,
        event_id=received.event.id,
        referral=to_read(received.referral),
    )


@router.get("/{referral_id}", response_model=ReferralRead)
async def get_referral(referral_id: uuid.UUID, uow: UoWDep, user: CurrentUser) -> ReferralRead:
    referral = await use_cases.read_referral(uow, referral_id, user)
    await uow.commit()
    return to_read(referral)
