"""The referrals service's own tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carethread.db import UtcDateTime, new_metadata


class ReferralsBase(DeclarativeBase):
    metadata = new_metadata()


class ReferralRow(ReferralsBase):
    __tablename__ = "referral"
    # The queue's filters, each in the queue's order (soonest due first); the partial ones
    # (waiting, overdue, triaged late) are in referrals_0005 and referrals_0007.
    __table_args__ = (
        Index("ix_referral_queue_borough", "borough", "status", "triage_due_at", "id"),
        Index("ix_referral_neighbourhood_due", "neighbourhood", "triage_due_at", "id"),
        Index("ix_referral_queue_status", "status", "triage_due_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    nhs_number: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(10), nullable=True)
    gp_practice_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    neighbourhood: Mapped[str | None] = mapped_column(String(10), nullable=True)
    borough: Mapped[str | None] = mapped_column(String(50), nullable=True)
    imd_quintile: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(30))
    urgency: Mapped[str] = mapped_column(String(20))
    reason_codes: Mapped[list[str]] = mapped_column(JSON)
    story: Mapped[str] = mapped_column(Text)
    referrer_org: Mapped[str] = mapped_column(String(20))
    referrer_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    # Triage and response times (migration referrals_0002).
    triage_due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    triaged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    destination: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    received_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # Matching at the door (migration referrals_0003).
    match_key: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    probable_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    # The person as referred, the referrer's role, consent; the SLA watch (referrals_0004).
    sex: Mapped[str | None] = mapped_column(String(10), nullable=True)
    gender_identity: Mapped[str | None] = mapped_column(String(100), nullable=True)
    ethnicity_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    preferred_language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    referrer_role: Mapped[str | None] = mapped_column(String(100), nullable=True)
    consent_to_share: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_breach_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The destination again, as columns: the receiving team's view filters on them.
    destination_kind: Mapped[str | None] = mapped_column(String(30), nullable=True)
    destination_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    # Triaged after its due time (referrals_0005): half of "breached", kept so the queue can
    # find it by index.
    triaged_late: Mapped[bool] = mapped_column(Boolean, default=False)


class TransitionRow(ReferralsBase):
    """Every move in a referral's life: the status history a referrer and GP can see."""

    __tablename__ = "referral_transition"

    referral_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("referral.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_status: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    actor_org: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    destination: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    health_signoff: Mapped[str | None] = mapped_column(String(200), nullable=True)
    social_care_signoff: Mapped[str | None] = mapped_column(String(200), nullable=True)


class LinkRow(ReferralsBase):
    """A referral linked at intake to an earlier open one for the same person."""

    __tablename__ = "referral_link"

    referral_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("referral.id"), primary_key=True
    )
    linked_referral_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("referral.id"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    matched_on: Mapped[str] = mapped_column(String(30))


class PersonRow(ReferralsBase):
    """The person as the front door knows them now (the referral rows keep what each
    referral said). ``version`` is the ``sequence`` of the person events."""

    __tablename__ = "person"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    nhs_number: Mapped[str | None] = mapped_column(String(10), nullable=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(10), nullable=True)
    gender_identity: Mapped[str | None] = mapped_column(String(100), nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(10), nullable=True)
    gp_practice_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    ethnicity_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    preferred_language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DirectoryServiceRow(ReferralsBase):
    """The front door's copy of the directory's listings, kept from its events, so that a
    referral is never routed to a withdrawn or full service, even while the directory is down."""

    __tablename__ = "directory_service"

    service_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    organization_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[str] = mapped_column(String(20))
    referral_route: Mapped[str | None] = mapped_column(String(30), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InvolvementRow(ReferralsBase):
    """Who is already involved with a person: their care team, kept from the care_plans
    service's events so the triager sees it at the door ("tell my story once")."""

    __tablename__ = "involvement"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    organisation: Mapped[str | None] = mapped_column(String(100), nullable=True)
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str | None] = mapped_column(String(100), nullable=True)
    key_worker: Mapped[bool] = mapped_column(Boolean, default=False)
    # The care plan's version that last changed this membership: a late, older event loses.
    plan_version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PersonMergeRow(ReferralsBase):
    """An id the front door minted for someone with no NHS number, merged into the id
    their NHS number gives once a trace found it. A repeated trace answers from here."""

    __tablename__ = "person_merge"

    merged_person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    nhs_number: Mapped[str] = mapped_column(String(10))
    referral_ids: Mapped[list[str]] = mapped_column(JSON)
    into_existing_record: Mapped[bool] = mapped_column(Boolean)
    merged_by: Mapped[str] = mapped_column(String(200))
    merged_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
