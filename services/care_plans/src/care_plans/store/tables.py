"""The care_plans service's own tables.

A plan is stored as its current document (``care_plan``) and as every version it has had
(``care_plan_version``): the history is the versions themselves, so nothing is lost and any
two can be compared. ``plan_action`` is the actions of current plans as rows, for the
overdue watch; ``person_referral`` is what this service knows of the front door's
referrals, for access by relationship; ``person_alias`` is every person id the front door
merged into another (``care_plans.merges``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carethread.db import PersonAliasColumns, UtcDateTime, new_metadata


class CarePlansBase(DeclarativeBase):
    metadata = new_metadata()


class PersonRow(CarePlansBase):
    __tablename__ = "person"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    nhs_number: Mapped[str | None] = mapped_column(String(10), nullable=True, unique=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(20), nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(10), nullable=True)
    gp_practice_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    neighbourhood: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    borough: Mapped[str | None] = mapped_column(String(50), nullable=True)
    preferred_language: Mapped[str | None] = mapped_column(String(20), nullable=True)
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(50), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    recorded_from: Mapped[str] = mapped_column(String(20))  # front_door | care_plans
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The front door's version of these details (its person events' ``sequence``) and when
    # it changed them: an older person event is ignored (by version; by time if it has none).
    front_door_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    front_door_sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A record kept under an id the front door merged into another while both ids had a
    # record here: the id it now belongs to (reads by this id lead there; no writes).
    merged_into: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    # On the surviving record: how many kept records await combining by the care team.
    records_to_combine: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CarePlanRow(CarePlansBase):
    __tablename__ = "care_plan"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("person.id"), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_by_org: Mapped[str | None] = mapped_column(String(20), nullable=True)


class PlanVersionRow(CarePlansBase):
    """One saved version: who saved it, what they changed, and the plan as it then was —
    whole every few versions (a snapshot), otherwise as a patch on the version before."""

    __tablename__ = "care_plan_version"

    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("care_plan.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    # none_as_null: "no document" is SQL NULL (found by IS NULL), not the JSON value null.
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    patch: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    organisation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    role: Mapped[str | None] = mapped_column(String(100), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changes: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{path, op}]
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class PlanActionRow(CarePlansBase):
    """An action of a current plan, as a row the overdue watch can query."""

    __tablename__ = "plan_action"
    __table_args__ = (Index("ix_plan_action_status_due_date", "status", "due_date"),)

    # Action ids are unique within their plan's document, not across plans.
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("care_plan.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20))
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The due date an overdue event was published for: once per action and due date.
    overdue_announced_for: Mapped[date | None] = mapped_column(Date, nullable=True)


class PersonReferralRow(CarePlansBase):
    """A front-door referral for a person, as its events told us."""

    __tablename__ = "person_referral"

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    referrer_org: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    destination_kind: Mapped[str | None] = mapped_column(String(30), nullable=True)
    destination_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    sequence: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BreakGlassRow(CarePlansBase):
    """A read without a relationship, for a stated reason; open for a short time."""

    __tablename__ = "break_glass"
    __table_args__ = (Index("ix_break_glass_person_id_actor", "person_id", "actor"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("person.id"))
    actor: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FhirAliasRow(CarePlansBase):
    """What a sending system calls a person (its Patient id), so that its later resources
    can refer to them that way."""

    __tablename__ = "fhir_alias"

    sender_org: Mapped[str] = mapped_column(String(20), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("person.id"))


class PersonAliasRow(PersonAliasColumns, CarePlansBase):
    """A person id the front door merged into another (``person.merged``): events and reads
    for it are for ``person_id``. ``record_kept``: both ids had a record here, and the old
    one is kept, read-only, until the care team has combined it (``combined_at``)."""

    __tablename__ = "person_alias"

    record_kept: Mapped[bool] = mapped_column(Boolean)
    combined_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    combined_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
