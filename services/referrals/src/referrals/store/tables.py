"""The referrals service's own tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carethread.db import UtcDateTime, new_metadata


class ReferralsBase(DeclarativeBase):
    metadata = new_metadata()


class ReferralRow(ReferralsBase):
    __tablename__ = "referral"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    nhs_number: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(10), nullable=True)
    gp_practice_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    neighbourhood: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    borough: Mapped[str | None] = mapped_column(String(50), nullable=True)
    imd_quintile: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(30))
    urgency: Mapped[str] = mapped_column(String(20))
    reason_codes: Mapped[list[str]] = mapped_column(JSON)
    story: Mapped[str] = mapped_column(Text)
    referrer_org: Mapped[str] = mapped_column(String(20))
    referrer_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30), index=True)
    version: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(200))
