"""What the referrals service publishes."""

from __future__ import annotations

from carethread.events import CloudEvent, new_event
from carethread.events.referrals import PersonSummary, ReferralReceivedV1
from referrals.domain.referral import Referral


def referral_received(referral: Referral) -> CloudEvent:
    p = referral.person
    data = ReferralReceivedV1(
        referral_id=referral.id,
        person_id=p.person_id,
        has_nhs_number=p.nhs_number is not None,
        person=PersonSummary(
            given_name=p.given_name,
            family_name=p.family_name,
            birth_date=p.birth_date,
            gp_practice_code=p.gp_practice_code,
            borough=referral.borough,
            imd_quintile=referral.imd_quintile,
        ),
        source=referral.source.value,
        urgency=referral.urgency.value,
        reason_codes=list(referral.reason_codes),
        neighbourhood=referral.neighbourhood,
        referrer_org=referral.referrer_org,
        received_at=referral.received_at,
        status=referral.status.value,
    )
    return new_event(
        data,
        subject=str(referral.id),
        person_id=p.person_id,
        neighbourhood=referral.neighbourhood,
        sequence=referral.version,
    )
