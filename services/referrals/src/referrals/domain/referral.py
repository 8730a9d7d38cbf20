"""The referral aggregate as it comes in through the front door."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


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


class Status(StrEnum):
    RECEIVED = "received"


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
SNOMED_REFERRAL_CODES = frozenset({"871731000000106"})


def unknown_reason_codes(codes: list[str]) -> list[str]:
    return [c for c in codes if c not in SOCIAL_NEEDS and c not in SNOMED_REFERRAL_CODES]


@dataclass(frozen=True)
class Person:
    person_id: uuid.UUID
    nhs_number: str | None
    given_name: str
    family_name: str
    birth_date: date | None
    postcode: str | None
    gp_practice_code: str | None


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
) -> Referral:
    """A new referral in state ``received``, or ReferralRejected saying why not."""
    if not reason_codes and not story.strip():
        raise ReferralRejected("reasons", "a referral needs at least one reason or a story")
    unknown = unknown_reason_codes(reason_codes)
    if unknown:
        raise ReferralRejected("reasons", f"unknown reason codes: {', '.join(unknown)}")
    if person.birth_date is not None and person.birth_date > now.date():
        raise ReferralRejected("person.birth_date", "the date of birth is in the future")
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
    )
