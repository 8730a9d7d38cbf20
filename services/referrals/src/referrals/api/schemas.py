"""Request and response bodies (apart from the table and domain models)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from carethread.nhs import normalise_nhs_number
from referrals.domain.referral import Source, Urgency


class ApiModel(BaseModel):
    # Unknown fields are refused: a typo must not be silently dropped from a referral.
    model_config = ConfigDict(extra="forbid")


NhsNumber = Annotated[str, AfterValidator(normalise_nhs_number)]


class PersonIn(ApiModel):
    nhs_number: NhsNumber | None = Field(None, description="10 digits, Modulus 11; optional")
    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    birth_date: date | None = None
    postcode: str | None = Field(None, max_length=10)
    gp_practice_code: str | None = Field(None, max_length=10, description="ODS code")


class ReferrerIn(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(None, max_length=100)
    org: str = Field(min_length=3, max_length=20, description="ODS code of the referring organisation")


class ReferralCreate(ApiModel):
    person: PersonIn
    referrer: ReferrerIn
    source: Source
    urgency: Urgency
    reasons: list[str] = Field(default_factory=list, description="social-needs or SNOMED CT codes")
    story: str = Field("", max_length=20_000)


class ReferralRead(ApiModel):
    id: uuid.UUID
    person_id: uuid.UUID
    status: str
    urgency: Urgency
    source: Source
    reasons: list[str]
    neighbourhood: str | None
    borough: str | None
    referrer_org: str
    received_at: datetime
    version: int


class WriteReceipt(ApiModel):
    """What a write returns: enough to wait for the MDT view to catch up."""

    referral_id: uuid.UUID
    person_id: uuid.UUID
    event_id: uuid.UUID
    referral: ReferralRead
