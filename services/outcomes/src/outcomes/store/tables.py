"""The outcomes service's tables: indicator inputs maintained from events."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carethread.db import new_metadata


class OutcomesBase(DeclarativeBase):
    metadata = new_metadata()


class ReferralVolumeRow(OutcomesBase):
    """Referrals received per day, neighbourhood and source: the first indicator input."""

    __tablename__ = "referral_volume"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    neighbourhood: Mapped[str] = mapped_column(String(10), primary_key=True)
    source: Mapped[str] = mapped_column(String(30), primary_key=True)
    referrals: Mapped[int] = mapped_column(Integer)
