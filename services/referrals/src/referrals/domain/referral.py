"""The referral aggregate as it comes in through the front door."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from referrals.domain.lifecycle import Status
from referrals.domain.person import ETHNIC_CATEGORIES, Person


class Source(StrEnum):
    GP = "gp"
    ACUTE_TRUST = "acute_trust"
    COMMUNITY = "community"
    MENTAL_HEALTH = "mental_health"
    ADULT_SOCIAL_CARE = "adult_social_care"
    VCSE = "vcse"
    SELF = "self"


class Urgency(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"


# The social-needs vocabulary shared with the directory (local codes), plus the SNOMED CT
# concepts the Social Prescribing Information Standard uses for the referral itself.
SOCIAL_NEEDS = frozenset(
    {
        "housing",
        "debt-benefits",
        "isolation",
        "employment",
        "food",
        "carers",
        "mental-wellbeing",
        "falls-frailty",
        "substance-use",
    }
)
# 871731000000106 is "Referral to social prescribing service"; the other two are the social
# prescribing codes the referrals issue names (used by the Social Prescribing Information
# Standard), accepted so an EPR that codes its referral with them keeps them as reasons.
SNOMED_REFERRAL_CODES = frozenset({"871731000000106", "1373501000000105", "1373511000000107"})


def unknown_reason_codes(codes: list[str]) -> list[str]:
    return [c for c in codes if c not in SOCIAL_NEEDS and c not in SNOMED_REFERRAL_CODES]


class DestinationKind(StrEnum):
    NEIGHBOURHOOD_MDT = "neighbourhood_mdt"
    TEAM = "team"
    SERVICE = "service"  # a directory service, e.g. social prescribing at a VCSE


@dataclass(frozen=True)
class Destination:
    kind: DestinationKind
    id: str
    name: str | None = None


@dataclass(frozen=True)
class Referral:
    id: uuid.UUID
    person: Person
    source: Source
    urgency: Urgency
    reason_codes: tuple[str, ...]
    story: str
    referrer_org: str
    referrer_name: str
    neighbourhood: str | None
    borough: str | None
    imd_quintile: int | None
    status: Status
    version: int
    received_at: datetime
    triage_due_at: datetime
    status_changed_at: datetime
    triaged_at: datetime | None = None
    claimed_by: str | None = None
    destination: Destination | None = None
    referrer_role: str | None = None
    # The person agreed that the front door may share the referral with partner organisations.
    consent_to_share: bool = False


class ReferralRejected(ValueError):
    """A referral the front door cannot accept; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def receive(
    *,
    referral_id: uuid.UUID,
    person: Person,
    source: Source,
    urgency: Urgency,
    reason_codes: list[str],
    story: str,
    referrer_org: str,
    referrer_name: str,
    neighbourhood: str | None,
    borough: str | None,
    imd_quintile: int | None,
    now: datetime,
    triage_due_at: datetime,
    referrer_role: str | None = None,
    consent_to_share: bool = False,
) -> Referral:
    """A new referral in state ``received``, or ReferralRejected saying why not."""
    if not reason_codes and not story.strip():
        raise ReferralRejected("reasons", "a referral needs at least one reason or a story")
    unknown = unknown_reason_codes(reason_codes)
    if unknown:
        raise ReferralRejected("reasons", f"unknown reason codes: {', '.join(unknown)}")
    if person.birth_date is not None and person.birth_date > now.date():
        raise ReferralRejected("person.birth_date", "the date of birth is in the future")
    code = person.ethnicity_code
    if code is not None and code not in ETHNIC_CATEGORIES:
        raise ReferralRejected(
            "person.ethnicity_code",
            f"unknown ethnic category {code!r}: use an NHS Data Dictionary code, A to Z",
        )
    return Referral(
        id=referral_id,
        person=person,
        source=source,
        urgency=urgency,
        reason_codes=tuple(reason_codes),
        story=story,
        referrer_org=referrer_org,
        referrer_name=referrer_name,
        neighbourhood=neighbourhood,
        borough=borough,
        imd_quintile=imd_quintile,
        status=Status.RECEIVED,
        version=1,
        received_at=now,
        triage_due_at=triage_due_at,
        status_changed_at=now,
        referrer_role=referrer_role,
        consent_to_share=consent_to_share,
    )
