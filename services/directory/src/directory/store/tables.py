"""The directory service's own tables (its capabilities add them)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from carethread.db import new_metadata


class DirectoryBase(DeclarativeBase):
    metadata = new_metadata()
