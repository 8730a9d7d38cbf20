"""The outcomes service's tables: the measures it owns, and the indicator inputs it keeps
from the other services' events (each row a fact about one referral, goal, action or
person, so an indicator is a count over facts and a replay rebuilds the same facts)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, Uuid, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carethread.db import PersonAliasColumns, UtcDateTime, new_metadata


class OutcomesBase(DeclarativeBase):
    metadata = new_metadata()


class PersonDimensions:
    """The unit's person as breakdowns read them, copied onto every unit row so an
    indicator is one grouped scan of its units, with no join to ``person`` or the opt-out
    list. Kept in step when the unit's person, their facts or their opt-out change
    (``store.dimensions``); NULL while the person is unknown (migration outcomes_0007)."""

    person_imd_quintile: Mapped[int | None] = mapped_column(Integer, nullable=True)
    person_sex: Mapped[str | None] = mapped_column(String(10), nullable=True)
    person_ethnicity_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    person_borough: Mapped[str | None] = mapped_column(String(60), nullable=True)
    person_neighbourhood: Mapped[str | None] = mapped_column(String(10), nullable=True)
    person_birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    person_in_plus_group: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    person_social_prescribed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    person_has_care_plan: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    person_opted_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


PERSON_FIELDS = [
    name for name in vars(PersonDimensions) if name.startswith("person_") and name != "person_id"
]


class ReferralVolumeRow(OutcomesBase):
    """Referrals received per day, neighbourhood and source: the first indicator input."""

    __tablename__ = "referral_volume"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    neighbourhood: Mapped[str] = mapped_column(String(10), primary_key=True)
    source: Mapped[str] = mapped_column(String(30), primary_key=True)
    referrals: Mapped[int] = mapped_column(Integer)


class PersonRow(OutcomesBase):
    """The demographics an indicator is broken down by, as the front door last told us."""

    __tablename__ = "person"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(10), nullable=True)
    ethnicity_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    borough: Mapped[str | None] = mapped_column(String(60), nullable=True)
    neighbourhood: Mapped[str | None] = mapped_column(String(10), nullable=True)
    lsoa: Mapped[str | None] = mapped_column(String(12), nullable=True)
    imd_quintile: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gp_practice_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    has_nhs_number: Mapped[bool] = mapped_column(Boolean, default=False)
    # Core20PLUS5 "PLUS" groups this person belongs to (inclusion_health, smi,
    # learning_disability, carer), and whether any: the column breakdowns group by.
    plus_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    in_plus_group: Mapped[bool] = mapped_column(Boolean, default=False)
    referred_as_carer: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )  # a referral for carers' support came for them (migration outcomes_0005)
    # Person-level facts indicators filter on, kept here so an indicator reads one row per
    # person rather than searching their referrals and plans (migration outcomes_0006).
    social_prescribed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    has_care_plan: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The time of the latest person event applied: an older one delivered late is ignored.
    details_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DataOptOutRow(OutcomesBase):
    """A person who registered a national data opt-out: left out of population indicators
    (never out of their own care). Kept apart from ``person`` so the list can arrive
    before the person does."""

    __tablename__ = "data_opt_out"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # "event": flagged on a person event; "list": the national list an admin loaded. A new
    # list replaces the old list's rows only.
    source: Mapped[str] = mapped_column(String(10), default="event", server_default="event")


class MeasureRow(OutcomesBase):
    __tablename__ = "measure"
    __table_args__ = (Index("ix_measure_person_instrument", "person_id", "instrument"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    instrument: Mapped[str] = mapped_column(String(20))
    answers: Mapped[list[float]] = mapped_column(JSON)  # items as given, or [] when external
    external: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    weights: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    scores: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{scale, value, band}]
    context_kind: Mapped[str] = mapped_column(String(30))
    context_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    recorded_by_org: Mapped[str | None] = mapped_column(String(20), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class MeasureChangeRow(PersonDimensions, OutcomesBase):
    """A person's first and latest measure on one scale of an instrument: the pre/post pair
    that change indicators count. Rebuilt from the measures whenever one is recorded."""

    __tablename__ = "measure_change"
    __table_args__ = (
        # An indicator on one scale reads its changes from this index alone (on
        # PostgreSQL, which keeps the included columns in the index; migration 0008).
        Index(
            "ix_measure_change_indicator",
            "instrument",
            "scale",
            "after_at",
            postgresql_include=["direction", *PERSON_FIELDS],
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    instrument: Mapped[str] = mapped_column(String(20), primary_key=True)
    scale: Mapped[str] = mapped_column(String(30), primary_key=True)
    before_measure_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    after_measure_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    before_value: Mapped[float] = mapped_column(Float)
    after_value: Mapped[float] = mapped_column(Float)
    change: Mapped[float] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(30))
    before_at: Mapped[datetime] = mapped_column(UtcDateTime)
    after_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ReferralFactRow(PersonDimensions, OutcomesBase):
    """One referral through the front door, as its events told it."""

    __tablename__ = "referral_fact"

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    source: Mapped[str | None] = mapped_column(String(30), nullable=True)
    urgency: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reason_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    referrer_org: Mapped[str | None] = mapped_column(String(20), nullable=True)
    neighbourhood: Mapped[str | None] = mapped_column(String(10), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(30))
    sequence: Mapped[int] = mapped_column(Integer)
    # The first triage decision: time to triage and SLA performance are about it.
    triaged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    triaged_within_sla: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where it went last: "service" is a social prescription to a directory service.
    destination_kind: Mapped[str | None] = mapped_column(String(30), nullable=True)
    destination_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    social_prescription: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CarePlanFactRow(OutcomesBase):
    __tablename__ = "care_plan_fact"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GoalFactRow(PersonDimensions, OutcomesBase):
    __tablename__ = "goal_fact"

    goal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    status: Mapped[str] = mapped_column(String(30))
    plan_version: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    achieved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class OverdueActionRow(PersonDimensions, OutcomesBase):
    """An action announced overdue, once per action and due date."""

    __tablename__ = "overdue_action"

    action_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    owner_org: Mapped[str | None] = mapped_column(String(20), nullable=True)
    announced_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CareTeamMemberRow(OutcomesBase):
    """Who is in a person's care team: a relationship that lets them see the person's
    results (the care plans rule)."""

    __tablename__ = "care_team_member"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    organisation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean)
    plan_version: Mapped[int] = mapped_column(Integer)


class IndicatorPublicationRow(OutcomesBase):
    """What was last announced for an indicator in one scope (the ICS, or a
    neighbourhood), so an indicator-updated event goes out only when the figures move."""

    __tablename__ = "indicator_publication"

    indicator_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IndicatorTallyRow(OutcomesBase):
    """An indicator's numerator and denominator for one day and one combination of the
    person fields of a grouping (``domain.tallies``); fields outside the grouping hold
    their "unknown" value. Kept in step with the units in the same transaction, so a
    breakdown adds up tallies instead of scanning units (migration outcomes_0009)."""

    __tablename__ = "indicator_tally"

    indicator_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    grouping: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    person_imd_quintile: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_in_plus_group: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    person_sex: Mapped[str] = mapped_column(String(10), primary_key=True)
    person_borough: Mapped[str] = mapped_column(String(60), primary_key=True)
    person_ethnicity_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    person_neighbourhood: Mapped[str] = mapped_column(String(10), primary_key=True)
    numerator: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[int] = mapped_column(Integer)


class IndicatorTallyStateRow(OutcomesBase):
    """The definition an indicator's tallies were built for: read only while it is the
    indicator's current one (otherwise the units are counted, until a rebuild)."""

    __tablename__ = "indicator_tally_state"

    indicator_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    definition: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PersonAliasRow(PersonAliasColumns, OutcomesBase):
    """A person id merged into another (``person.merged``: the id the front door minted
    for someone with no NHS number, once a trace found their number). Nothing is kept
    under ``merged_person_id`` any more but its own opt-out; a later event or request for
    it is applied to ``person_id`` (``store.merges``; migration outcomes_0010)."""

    __tablename__ = "person_alias"
