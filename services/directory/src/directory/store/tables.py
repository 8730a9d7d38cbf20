"""The directory service's own tables.

A listing is one ``service`` row (its scalar fields, and the nested parts nobody filters on
as JSON) plus rows that searches filter on: ``service_taxonomy``, ``service_facet``
(borough, language, delivery mode, accessibility), ``opening_hours`` and its locations.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carethread.db import UtcDateTime, new_metadata
from carethread.db.tables import BigIntId


class DirectoryBase(DeclarativeBase):
    metadata = new_metadata()


class OrganizationRow(DirectoryBase):
    __tablename__ = "organization"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(300), nullable=True)
    website: Mapped[str | None] = mapped_column(String(500), nullable=True)
    logo: Mapped[str | None] = mapped_column(String(500), nullable=True)
    uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    parent_organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    identifiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LocationRow(DirectoryBase):
    __tablename__ = "location"
    __table_args__ = (Index("ix_location_lat_lon_id", "latitude", "longitude", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    location_type: Mapped[str] = mapped_column(String(20), default="physical")
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    address_1: Mapped[str | None] = mapped_column(String(300), nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    region: Mapped[str | None] = mapped_column(String(100), nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    borough: Mapped[str | None] = mapped_column(String(50), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    accessibility: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    external_identifier: Mapped[str | None] = mapped_column(String(100), nullable=True)
    external_identifier_type: Mapped[str | None] = mapped_column(String(50), nullable=True)
    address_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class ServiceRow(DirectoryBase):
    __tablename__ = "service"
    __table_args__ = (Index("ix_service_status_capacity", "status", "capacity"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organization.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    email: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[str] = mapped_column(String(20))
    referral_route: Mapped[str] = mapped_column(String(30))
    minimum_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    maximum_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    free: Mapped[bool] = mapped_column(Boolean, default=True)
    fees: Mapped[str | None] = mapped_column(Text, nullable=True)
    eligibility: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The listing as written (nested parts included), for reading it back whole.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Words that find the listing besides its name and description: its organisation,
    # taxonomy terms and their synonyms.
    keywords: Mapped[str] = mapped_column(Text, default="")
    last_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ServiceAtLocationRow(DirectoryBase):
    __tablename__ = "service_at_location"
    __table_args__ = (
        UniqueConstraint("service_id", "location_id"),
        Index("ix_service_at_location_location_id_service_id", "location_id", "service_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    service_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("location.id"))


class TaxonomyRow(DirectoryBase):
    __tablename__ = "taxonomy"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    version: Mapped[str | None] = mapped_column(String(50), nullable=True)


class TaxonomyTermRow(DirectoryBase):
    __tablename__ = "taxonomy_term"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    taxonomy_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("taxonomy.id"), nullable=True, index=True
    )
    # The short code a query or the front door uses ("debt-benefits"); imported terms
    # that come without one have none.
    code: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    term_uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)


class ServiceTaxonomyRow(DirectoryBase):
    __tablename__ = "service_taxonomy"

    service_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    term_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("taxonomy_term.id"), primary_key=True, index=True
    )


class ServiceFacetRow(DirectoryBase):
    """One value of a multi-valued filter: ``borough``, ``language``, ``delivery``,
    ``accessibility``."""

    __tablename__ = "service_facet"
    __table_args__ = (Index("ix_service_facet_facet_value", "facet", "value", "service_id"),)

    service_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)


class OpeningHoursRow(DirectoryBase):
    """A weekly opening range in local (Europe/London) minutes after midnight."""

    __tablename__ = "opening_hours"
    __table_args__ = (Index("ix_opening_hours_weekday", "weekday", "opens", "closes"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    service_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[int] = mapped_column(Integer)
    closes: Mapped[int] = mapped_column(Integer)


class ServiceRevisionRow(DirectoryBase):
    """The edit history: who changed a listing, when, and what moved."""

    __tablename__ = "service_revision"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    service_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    actor_org: Mapped[str | None] = mapped_column(String(50), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class SearchWordRow(DirectoryBase):
    """Every word the listings hold: what a misspelt query word is corrected to."""

    __tablename__ = "search_word"

    word: Mapped[str] = mapped_column(String(100), primary_key=True)


class ServiceUptakeRow(DirectoryBase):
    """Referrals the front door routed to a service, and how many the service started,
    counted from the front door's events."""

    __tablename__ = "service_uptake"

    service_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    routed: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    last_referral_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReferralRoutingRow(DirectoryBase):
    """Which service a referral was routed to, so its start counts as accepted there."""

    __tablename__ = "referral_routing"

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    service_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    routed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ServiceProposalRow(DirectoryBase):
    """A change a VCSE organisation proposed to its listing, and the curator's decision."""

    __tablename__ = "service_proposal"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    service_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    base_version: Mapped[int] = mapped_column(Integer)
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_by_org: Mapped[str | None] = mapped_column(String(50), nullable=True)
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
