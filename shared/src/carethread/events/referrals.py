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


class Destination(BaseModel):
    """Where a triaged referral goes: a neighbourhood MDT, a named team, or a directory
    service (social prescribing to a VCSE service)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str  # neighbourhood_mdt | team | service
    id: str
    name: str | None = None


@registry.register
class ReferralTriagedV1(EventData):
    """The front door decided: accepted, routed, signposted, more information requested, or
    declined. ``status`` is the referral's state after the decision."""

    event_type: ClassVar[str] = "carethread.referral.triaged.v1"
    topic: ClassVar[str] = topics.REFERRALS
    source_service: ClassVar[str] = "referrals"

    referral_id: uuid.UUID
    person_id: uuid.UUID
    decision: str
    status: str
    destination: Destination | None = None
    reason: str | None = None
    decided_by: str
    decided_by_org: str
    health_signoff: str | None = None
    social_care_signoff: str | None = None
    triaged_at: datetime
    breached_sla: bool


@registry.register
class ReferralStatusChangedV1(EventData):
    """Any other move in the lifecycle: claimed, unclaimed, started, completed, withdrawn,
    information provided."""

    event_type: ClassVar[str] = "carethread.referral.status-changed.v1"
    topic: ClassVar[str] = topics.REFERRALS
    source_service: ClassVar[str] = "referrals"

    referral_id: uuid.UUID
    person_id: uuid.UUID
    action: str
    from_status: str
    status: str
    changed_by: str
    changed_at: datetime
    reason: str | None = None


@registry.register
class ReferralSlaBreachedV1(EventData):
    """A referral was still waiting for a triage decision when its response time ran out.
    Published once per referral, by the front door's SLA watch."""

    event_type: ClassVar[str] = "carethread.referral.sla-breached.v1"
    topic: ClassVar[str] = topics.REFERRALS
    source_service: ClassVar[str] = "referrals"

    referral_id: uuid.UUID
    person_id: uuid.UUID
    urgency: str
    status: str
    neighbourhood: str | None
    borough: str | None
    received_at: datetime
    triage_due_at: datetime
    breached_at: datetime


class PersonDetails(BaseModel):
    """The person as the front door knows them: identifiers, demographics, where they belong
    and how to communicate with them. Narrative never travels."""

    model_config = ConfigDict(extra="allow", frozen=True)

    nhs_number: str | None = None
    given_name: str
    family_name: str
    birth_date: date | None = None
    sex: str | None = None  # FHIR administrative gender: male | female | other | unknown
    gender_identity: str | None = None
    postcode: str | None = None
    lsoa: str | None = None
    gp_practice_code: str | None = None
    neighbourhood: str | None = None
    borough: str | None = None
    imd_quintile: int | None = None
    ethnicity_code: str | None = None  # NHS Data Dictionary ethnic category, e.g. "A"
    preferred_language: str | None = None  # ISO 639-1, e.g. "tr"
    interpreter_needed: bool = False
    phone: str | None = None
    email: str | None = None


@registry.register
class PersonRegisteredV1(EventData):
    """The front door recorded a person for the first time. For someone with no NHS number
    the ``person_id`` is a fresh UUID that every service adopts."""

    event_type: ClassVar[str] = "carethread.person.registered.v1"
    topic: ClassVar[str] = topics.REFERRALS
    source_service: ClassVar[str] = "referrals"

    person_id: uuid.UUID
    person: PersonDetails
    referral_id: uuid.UUID
    registered_at: datetime


@registry.register
class PersonUpdatedV1(EventData):
    """A later referral brought different details for a known person; ``changed`` names the
    fields of ``person`` that moved."""

    event_type: ClassVar[str] = "carethread.person.updated.v1"
    topic: ClassVar[str] = topics.REFERRALS
    source_service: ClassVar[str] = "referrals"

    person_id: uuid.UUID
    person: PersonDetails
    changed: list[str]
    referral_id: uuid.UUID
    updated_at: datetime


@registry.register
class PersonMergedV1(EventData):
    """Two person ids turned out to be one person: an NHS number trace found the number of
    someone the front door had recorded without one. ``merged_person_id`` (the id the front
    door minted) is gone; ``person_id`` (derived from the NHS number, as every service
    derives it) is the person now, with ``person`` their record after the merge.

    Every consumer moves what it holds for the old id to the new one and treats a later
    event for the old id as one for the new. The envelope's ``sequence`` continues the
    surviving record's versions above every version either id had, so person events of
    both ids stay comparable with it. Keyed by the surviving id."""

    event_type: ClassVar[str] = "carethread.person.merged.v1"
    topic: ClassVar[str] = topics.REFERRALS
    source_service: ClassVar[str] = "referrals"

    person_id: uuid.UUID
    merged_person_id: uuid.UUID
    person: PersonDetails
    referral_ids: list[uuid.UUID]  # the old id's referrals, now the person's
    merged_by: str
    merged_at: datetime
