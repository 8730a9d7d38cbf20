"""The MDT read model: nothing here is owned; all of it is rebuilt from events."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Integer, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carethread.db import UtcDateTime, new_metadata


class MdtBase(DeclarativeBase):
    metadata = new_metadata()


class CaseloadReferralRow(MdtBase):
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


class TimelineEntryRow(MdtBase):
    __tablename__ = "timeline_entry"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source_service: Mapped[str] = mapped_column(String(50))
    event_type: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    organisation: Mapped[str | None] = mapped_column(String(20), nullable=True)


class SourceFreshnessRow(MdtBase):
    __tablename__ = "source_freshness"

    source_service: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    last_event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime)
    events_applied: Mapped[int] = mapped_column(Integer)
