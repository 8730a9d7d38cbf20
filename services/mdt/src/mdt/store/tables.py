"""The MDT read model: nothing here is owned; all of it is rebuilt from events.

Each source aggregate keeps the ``sequence`` (and, where one version carries several events
about the same thing, a ``rank``) of the change last applied, so a late or repeated change
never overwrites a newer one. ``caseload_person`` is derived from the other tables by
``store.projection.refresh`` and is never written any other way.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carethread.db import PersonAliasColumns, UtcDateTime, new_metadata


class MdtBase(DeclarativeBase):
    metadata = new_metadata()


class CaseloadReferralRow(MdtBase):
    """A referral as the front door announced it. A row may exist before its intake event
    (a status change replayed first): ``received`` says whether the details are in."""

    __tablename__ = "caseload_referral"

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    neighbourhood: Mapped[str | None] = mapped_column(String(10), index=True, nullable=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    has_nhs_number: Mapped[bool]
    status: Mapped[str] = mapped_column(String(30))
    urgency: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sequence: Mapped[int] = mapped_column(Integer)
    received: Mapped[bool] = mapped_column(Boolean, default=True)
    gp_practice_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    imd_quintile: Mapped[int | None] = mapped_column(Integer, nullable=True)
    for_carer_support: Mapped[bool] = mapped_column(Boolean, default=False)
    breached_sla: Mapped[bool] = mapped_column(Boolean, default=False)
    referrer_org: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # Where triage sent it (a team, a neighbourhood MDT or a directory service), and the
    # referral version that said so: later status changes do not carry it.
    destination_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    destination_sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TimelineEntryRow(MdtBase):
    __tablename__ = "timeline_entry"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source_service: Mapped[str] = mapped_column(String(50))
    event_type: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    organisation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # A directory service the entry is about: its current name is shown when read.
    directory_service_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class SourceFreshnessRow(MdtBase):
    __tablename__ = "source_freshness"

    source_service: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    last_event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime)
    events_applied: Mapped[int] = mapped_column(Integer)


class PersonSnapshotRow(MdtBase):
    """The person as each source last described them. Two sources, kept apart, so which
    one arrived first never matters: the front door's details (versioned by its
    ``sequence``) and the shared care record's (no sequence: ordered by time, then id)."""

    __tablename__ = "person_snapshot"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    front_door: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    front_door_sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    care_record: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    care_record_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    care_record_event: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class CarePlanRow(MdtBase):
    """A shared care plan. Created bare (``sequence`` 0) when a goal, action or care-team
    event arrives before the plan's own."""

    __tablename__ = "care_plan"

    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sequence: Mapped[int] = mapped_column(Integer)
    review_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    key_worker_org: Mapped[str | None] = mapped_column(String(20), nullable=True)
    neighbourhood: Mapped[str | None] = mapped_column(String(10), nullable=True)


class PlanGoalRow(MdtBase):
    __tablename__ = "plan_goal"

    goal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    status: Mapped[str] = mapped_column(String(20))
    target_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    sequence: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)


class PlanActionRow(MdtBase):
    __tablename__ = "plan_action"

    action_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)  # overdue counts per page
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    status: Mapped[str] = mapped_column(String(20))
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    owner_org: Mapped[str | None] = mapped_column(String(20), nullable=True)
    owner_team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    sequence: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)


class CareTeamMemberRow(MdtBase):
    __tablename__ = "care_team_member"

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    organisation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    role: Mapped[str | None] = mapped_column(String(200), nullable=True)
    key_worker: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    sequence: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)


class OutcomeMeasureRow(MdtBase):
    """A recorded measure's headline score; measures are never changed, only added."""

    __tablename__ = "outcome_measure"

    measure_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    instrument: Mapped[str] = mapped_column(String(20))
    scale: Mapped[str] = mapped_column(String(50))
    value: Mapped[float] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    change_since_first: Mapped[float | None] = mapped_column(Float, nullable=True)
    change_direction: Mapped[str | None] = mapped_column(String(30), nullable=True)


class DirectoryServiceRow(MdtBase):
    """A directory listing, for the current name of a service a person was sent to."""

    __tablename__ = "directory_service"

    service_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    organization_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sequence: Mapped[int] = mapped_column(Integer)  # of the change that last set the name
    rank: Mapped[int] = mapped_column(Integer)
    # The (sequence, rank) of the change that last set each of these, packed in one number.
    organization_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    capacity_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PersonAliasRow(PersonAliasColumns, MdtBase):
    """A person id that turned out to be another person's (the front door's merge): the
    view keeps nothing under ``merged_person_id`` and applies its late events to
    ``person_id``."""

    __tablename__ = "person_alias"


class CaseloadPersonRow(MdtBase):
    """One person's line in their neighbourhood's caseload, derived from the rows above
    (see ``store.projection``). Facts that move with the clock (waiting time, actions
    falling overdue) are kept as dates and judged when read."""

    __tablename__ = "caseload_person"
    # The caseload reads one neighbourhood's people on it, oldest wait first.
    __table_args__ = (
        Index("ix_caseload_person_neighbourhood", "neighbourhood", "on_caseload", "waiting_since"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    neighbourhood: Mapped[str | None] = mapped_column(String(10), nullable=True)
    on_caseload: Mapped[bool] = mapped_column(Boolean)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    urgency: Mapped[str | None] = mapped_column(String(20), nullable=True)
    urgency_rank: Mapped[int] = mapped_column(Integer)
    waiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    open_referrals: Mapped[int] = mapped_column(Integer)
    sla_breached: Mapped[bool] = mapped_column(Boolean)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    plan_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    review_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    care_team: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    open_actions: Mapped[int] = mapped_column(Integer)
    earliest_open_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    wellbeing: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    deteriorated: Mapped[list[str]] = mapped_column(JSON)
    deteriorating: Mapped[bool] = mapped_column(Boolean)  # ``deteriorated`` is not empty
    flags: Mapped[list[str]] = mapped_column(JSON)
    core20plus5: Mapped[bool] = mapped_column(Boolean)
    inclusion_health: Mapped[bool] = mapped_column(Boolean)
    carer: Mapped[bool] = mapped_column(Boolean)
    no_gp: Mapped[bool] = mapped_column(Boolean)
    interpreter_needed: Mapped[bool] = mapped_column(Boolean)
    # A digest of all the columns above, as ``store.projection`` computed them: a poll
    # compares digests to tell which lines changed, instead of reading every line back.
    line_digest: Mapped[str | None] = mapped_column(String(32), nullable=True)


class NeighbourhoodChangeRow(MdtBase):
    """A counter per neighbourhood, moved whenever a caseload line in it changes, so an open
    MDT screen's stream can tell that something changed. It counts changes as they were
    applied, which depends on the order events came in: it is bookkeeping for the stream,
    not part of the view (and not compared when a rebuilt view is checked)."""

    __tablename__ = "neighbourhood_change"

    neighbourhood: Mapped[str] = mapped_column(String(10), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # whose line changed last
