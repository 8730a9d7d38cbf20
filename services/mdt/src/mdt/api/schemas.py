from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel


class SourceFreshness(BaseModel):
    last_event_id: uuid.UUID
    last_event_time: datetime
    applied_at: datetime
    events_applied: int


class Freshness(BaseModel):
    """How current this view is, per source service; and whether ``min_event`` was met."""

    sources: dict[str, SourceFreshness]
    waited_for: uuid.UUID | None = None
    caught_up: bool = True


class CareTeamMember(BaseModel):
    organisation: str | None
    team: str | None
    role: str | None
    key_worker: bool


class Plan(BaseModel):
    plan_id: uuid.UUID
    status: str
    review_date: date | None


class Wellbeing(BaseModel):
    """The latest wellbeing measure (SWEMWBS or ONS4) and its change since the first."""

    instrument: str
    scale: str
    score: float
    recorded_at: datetime
    change_since_first: float | None
    change_direction: str | None


Flag = Literal["core20plus5", "inclusion_health", "carer", "no_gp", "interpreter_needed"]
Sort = Literal["waiting", "urgency", "name", "review_date"]


class CaseloadEntry(BaseModel):
    """One person on the caseload. ``referral_id`` and ``status`` are those of their most
    recent open referral (``open_referral_ids`` lists them all, oldest first)."""

    person_id: uuid.UUID
    given_name: str
    family_name: str
    birth_date: date | None
    no_nhs_number: bool
    referral_id: uuid.UUID | None
    open_referral_ids: list[uuid.UUID]
    status: str | None
    urgency: str | None
    waiting_since: datetime | None
    waiting_days: int | None
    sla_breached: bool
    plan: Plan | None
    care_team: list[CareTeamMember]
    open_actions: int
    overdue_actions: int
    wellbeing: Wellbeing | None
    deteriorated: list[str]
    flags: list[Flag]
    meeting_reasons: list[str]


class Headline(BaseModel):
    people: int
    awaiting_triage: int
    open_referrals: int
    active_plans: int
    sla_breached: int
    with_overdue_actions: int
    deteriorating: int
    for_meeting: int
    core20plus5: int
    inclusion_health: int
    carer: int
    no_gp: int
    interpreter_needed: int


class Caseload(BaseModel):
    neighbourhood: str
    name: str
    headline: Headline
    total: int
    limit: int
    offset: int
    items: list[CaseloadEntry]
    freshness: Freshness


class Meeting(BaseModel):
    """People put forward for the next MDT meeting by rule, each with the reasons."""

    neighbourhood: str
    name: str
    total: int
    items: list[CaseloadEntry]
    freshness: Freshness


class NeighbourhoodSummary(BaseModel):
    id: str
    name: str
    borough: str
    people: int


class Neighbourhoods(BaseModel):
    items: list[NeighbourhoodSummary]
    freshness: Freshness


class DirectoryService(BaseModel):
    service_id: uuid.UUID
    name: str | None  # the directory's current name, once its listing has been seen


class TimelineEntry(BaseModel):
    event_id: uuid.UUID
    occurred_at: datetime
    source_service: str
    event_type: str
    summary: str
    organisation: str | None
    directory_service: DirectoryService | None = None


class Timeline(BaseModel):
    person_id: uuid.UUID
    entries: list[TimelineEntry]
    freshness: Freshness
