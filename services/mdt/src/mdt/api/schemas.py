from __future__ import annotations

import uuid
from datetime import date, datetime

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


class CaseloadEntry(BaseModel):
    referral_id: uuid.UUID
    person_id: uuid.UUID
    given_name: str
    family_name: str
    birth_date: date | None
    no_nhs_number: bool
    status: str
    urgency: str
    source: str
    received_at: datetime


class Caseload(BaseModel):
    neighbourhood: str
    name: str
    total: int
    items: list[CaseloadEntry]
    freshness: Freshness


class TimelineEntry(BaseModel):
    event_id: uuid.UUID
    occurred_at: datetime
    source_service: str
    event_type: str
    summary: str
    organisation: str | None


class Timeline(BaseModel):
    person_id: uuid.UUID
    entries: list[TimelineEntry]
    freshness: Freshness
