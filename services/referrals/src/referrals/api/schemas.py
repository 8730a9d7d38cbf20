"""Request and response bodies (apart from the table and domain models)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from carethread.nhs import normalise_nhs_number
from referrals.domain.lifecycle import Action, Status
from referrals.domain.person import Sex
from referrals.domain.referral import DestinationKind, Source, Urgency


class ApiModel(BaseModel):
    # Unknown fields are refused: a typo must not be silently dropped from a referral.
    model_config = ConfigDict(extra="forbid")


NhsNumber = Annotated[str, AfterValidator(normalise_nhs_number)]


class ContactIn(ApiModel):
    phone: str | None = Field(None, pattern=r"^\+?[0-9 ()-]{6,20}$")
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PersonIn(ApiModel):
    nhs_number: NhsNumber | None = Field(None, description="10 digits, Modulus 11; optional")
    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    birth_date: date | None = None
    postcode: str | None = Field(None, max_length=10)
    gp_practice_code: str | None = Field(None, max_length=10, description="ODS code")
    sex: Sex | None = Field(None, description="administrative gender, as FHIR codes it")
    gender_identity: str | None = Field(None, max_length=100, description="in their own words")
    ethnicity_code: str | None = Field(
        None, max_length=2, description="NHS Data Dictionary ethnic category, A to Z"
    )
    preferred_language: str | None = Field(
        None,
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description='BCP 47 language tag, e.g. "tr", "so", "bfi" (British Sign Language)',
    )
    interpreter_needed: bool = False
    contact: ContactIn | None = None


class PersonOut(BaseModel):
    nhs_number: str | None
    given_name: str
    family_name: str
    birth_date: date | None
    sex: Sex | None
    postcode: str | None
    gp_practice_code: str | None
    ethnicity_code: str | None
    preferred_language: str | None
    interpreter_needed: bool


class ReferrerIn(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(None, max_length=100)
    org: str = Field(
        min_length=3, max_length=20, description="ODS code of the referring organisation"
    )


class ReferralCreate(ApiModel):
    person: PersonIn
    referrer: ReferrerIn
    source: Source
    urgency: Urgency
    reasons: list[str] = Field(default_factory=list, description="social-needs or SNOMED CT codes")
    story: str = Field("", max_length=20_000)
    consent_to_share: bool = Field(
        False, description="the person agrees the referral may be shared with partner organisations"
    )


class DestinationIn(ApiModel):
    kind: DestinationKind = Field(
        description="neighbourhood_mdt or team (accept); service, a directory service (route)"
    )
    id: str = Field(min_length=1, max_length=100, description="PCN code, team id or service id")
    name: str | None = Field(None, max_length=200)


class DestinationOut(BaseModel):
    kind: DestinationKind
    id: str
    name: str | None = None


class ReferralRead(ApiModel):
    id: uuid.UUID
    person_id: uuid.UUID
    person: PersonOut
    status: Status
    urgency: Urgency
    source: Source
    reasons: list[str]
    neighbourhood: str | None
    borough: str | None
    referrer_org: str
    referrer_name: str
    referrer_role: str | None
    consent_to_share: bool
    received_at: datetime
    version: int
    triage_due_at: datetime
    triaged_at: datetime | None
    breached_sla: bool
    status_changed_at: datetime
    seconds_in_status: int
    claimed_by: str | None
    destination: DestinationOut | None
    allowed_actions: list[Action]
    probable_duplicate: bool = Field(
        False,
        description="an open referral for the same person with a shared reason came in "
        "within 30 days: check before triaging (never merged automatically)",
    )


class LinkedReferral(BaseModel):
    referral_id: uuid.UUID
    status: Status
    kind: Literal["same_person", "probable_duplicate"]
    matched_on: Literal["nhs_number", "demographics"]


class Involvement(BaseModel):
    """A member of the person's care team, as the care_plans service reports it."""

    organisation: str | None
    team: str | None
    role: str | None
    key_worker: bool
    since: datetime


class ReferralDetail(ReferralRead):
    """One referral, with the person's other open referrals seen at the door and who is
    already involved in their care."""

    linked: list[LinkedReferral]
    involvement: list[Involvement] = Field(
        default_factory=list, description="the person's care team, from their shared care plan"
    )


class ReferralPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ReferralRead]


class TriageDecisionIn(ApiModel):
    decision: Literal["accept", "route", "signpost", "request_info", "decline"]
    destination: DestinationIn | None = None
    reason: str | None = Field(
        None,
        max_length=5_000,
        description="why (decline), the question for the referrer (request_info), "
        "where to (signpost)",
    )
    health_signoff: str | None = Field(None, max_length=200, description="who decided for health")
    social_care_signoff: str | None = Field(
        None, max_length=200, description="who decided for social care"
    )


class MoveIn(ApiModel):
    reason: str | None = Field(None, max_length=5_000)


class TransitionRead(BaseModel):
    version: int
    action: str
    from_status: str | None
    to_status: str
    actor: str
    actor_org: str
    at: datetime
    reason: str | None
    destination: DestinationOut | None
    health_signoff: str | None
    social_care_signoff: str | None


class WriteReceipt(ApiModel):
    """What a write returns: enough to wait for the MDT view to catch up."""

    referral_id: uuid.UUID
    person_id: uuid.UUID
    event_id: uuid.UUID
    referral: ReferralRead
