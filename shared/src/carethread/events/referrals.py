"""Events published by the referrals service on ``carethread.referrals.v1``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from carethread.events import topics
from carethread.events.registry import EventData, registry


class PersonSummary(BaseModel):
    """The demographics a consumer needs to show and place a person; no narrative."""

    model_config = ConfigDict(extra="allow", frozen=True)

    given_name: str
    family_name: str
    birth_date: date | None = None
    gp_practice_code: str | None = None
    borough: str | None = None
    imd_quintile: int | None = None


@registry.register
class ReferralReceivedV1(EventData):
    """A referral came in through the front door (any channel)."""

    event_type: ClassVar[str] = "carethread.referral.received.v1"
    topic: ClassVar[str] = topics.REFERRALS
    source_service: ClassVar[str] = "referrals"

    referral_id: uuid.UUID
    person_id: uuid.UUID
    has_nhs_number: bool
    person: PersonSummary
    source: str
    urgency: str
    reason_codes: list[str]
    neighbourhood: str | None
    referrer_org: str
    received_at: datetime
    status: str
