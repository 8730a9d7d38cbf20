"""Request and response bodies of the directory's JSON API (apart from the tables)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from directory.domain.listing import Capacity, DeliveryMode, ReferralRoute, check_age_range

Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$", description="ISO 639 code, e.g. tr")]
Text = Annotated[str, Field(max_length=5000)]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
Age = Annotated[int, Field(ge=0, le=130)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganizationIn(_In):
    id: uuid.UUID | None = None
    name: ShortText
    description: Text = ""
    email: str | None = Field(default=None, max_length=300)
    website: str | None = Field(default=None, max_length=500)
    logo: str | None = Field(default=None, max_length=500)
    uri: str | None = Field(default=None, max_length=500)
    parent_organization_id: uuid.UUID | None = None
    identifiers: list[dict[str, Any]] = Field(default_factory=list, max_length=20)


class AccessibilityIn(_In):
    id: uuid.UUID | None = None
    code: str | None = Field(default=None, max_length=50, description="e.g. step_free")
    description: Text = ""
    details: str | None = Field(default=None, max_length=2000)
    url: str | None = Field(default=None, max_length=500)


class LocationIn(_In):
    id: uuid.UUID | None = None
    location_type: Literal["physical", "postal", "virtual"] = "physical"
    name: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    address_1: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postcode: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default="GB", pattern=r"^[A-Z]{2}$")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    accessibility: list[AccessibilityIn] = Field(default_factory=list, max_length=20)
    external_identifier: str | None = Field(default=None, max_length=100)
    external_identifier_type: str | None = Field(default=None, max_length=50)
    address_id: uuid.UUID | None = None
    service_at_location_id: uuid.UUID | None = None


class ScheduleIn(_In):
    """A weekly opening time, in Europe/London local time."""

    id: uuid.UUID | None = None
    byday: list[Weekday] = Field(min_length=1, max_length=7)
    opens_at: time
    closes_at: time
    valid_from: date | None = None
    valid_to: date | None = None
    description: str | None = Field(default=None, max_length=2000)
    attending_type: str | None = Field(default=None, max_length=500)
    notes: str | None = Field(default=None, max_length=2000)


class ContactIn(_In):
    id: uuid.UUID | None = None
    name: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=300)


class CostOptionIn(_In):
    id: uuid.UUID | None = None
    option: str | None = Field(default=None, max_length=500)
    amount: float | None = Field(default=None, ge=0)
    amount_description: str | None = Field(default=None, max_length=500)
    valid_from: date | None = None
    valid_to: date | None = None


class ServiceIn(_In):
    """A listing as a curator (or an import) writes it."""

    id: uuid.UUID | None = Field(default=None, description="set by imports; new if absent")
    organization: OrganizationIn
    name: ShortText
    description: Text = ""
    url: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=300)
    taxonomy: list[str] = Field(
        default_factory=list, max_length=50, description="term codes or ids, e.g. food-bank"
    )
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    boroughs: list[str] = Field(
        default_factory=list, max_length=20, description="who it serves; empty: anyone"
    )
    eligibility: str | None = Field(default=None, max_length=5000)
    free: bool = True
    fees: str | None = Field(default=None, max_length=2000)
    cost_options: list[CostOptionIn] = Field(default_factory=list, max_length=20)
    languages: list[LanguageCode] = Field(default_factory=lambda: ["en"], max_length=30)
    delivery_modes: list[DeliveryMode] = Field(default_factory=list, max_length=4)
    locations: list[LocationIn] = Field(default_factory=list, max_length=50)
    schedules: list[ScheduleIn] = Field(default_factory=list, max_length=50)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    referral_route: ReferralRoute = ReferralRoute.SELF_REFERRAL
    capacity: Capacity = Capacity.ACCEPTING
    # What the ORUK profile carries that CareThread does not interpret, kept to serve back.
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ages(self) -> ServiceIn:
        check_age_range(self.minimum_age, self.maximum_age)
        return self


class ServicePatch(_In):
    """Only the fields sent change; ``null`` clears an optional one."""

    organization: OrganizationIn | None = None
    name: ShortText | None = None
    description: Text | None = None
    url: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=300)
    taxonomy: list[str] | None = Field(default=None, max_length=50)
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    boroughs: list[str] | None = Field(default=None, max_length=20)
    eligibility: str | None = Field(default=None, max_length=5000)
    free: bool | None = None
    fees: str | None = Field(default=None, max_length=2000)
    cost_options: list[CostOptionIn] | None = Field(default=None, max_length=20)
    languages: list[LanguageCode] | None = Field(default=None, max_length=30)
    delivery_modes: list[DeliveryMode] | None = Field(default=None, max_length=4)
    locations: list[LocationIn] | None = Field(default=None, max_length=50)
    schedules: list[ScheduleIn] | None = Field(default=None, max_length=50)
    contacts: list[ContactIn] | None = Field(default=None, max_length=20)
    referral_route: ReferralRoute | None = None
    capacity: Capacity | None = None


class WithdrawIn(_In):
    reason: str = Field(min_length=1, max_length=2000)


class CapacityIn(_In):
    capacity: Capacity


class VerifyIn(_In):
    note: str | None = Field(default=None, max_length=2000)


class LocationRead(LocationIn):
    borough: str | None = None
    distance_km: float | None = None


class UptakeRead(BaseModel):
    routed: int = Field(default=0, description="referrals the front door routed here")
    accepted: int = Field(default=0, description="of those, the ones the service started")
    last_referral_at: datetime | None = None


class ServiceRead(BaseModel):
    id: uuid.UUID
    organization: OrganizationIn
    name: str
    description: str
    url: str | None
    email: str | None
    status: str
    taxonomy: list[str]
    minimum_age: int | None
    maximum_age: int | None
    boroughs: list[str]
    eligibility: str | None
    free: bool
    fees: str | None
    cost_options: list[CostOptionIn]
    languages: list[str]
    delivery_modes: list[str]
    locations: list[LocationRead]
    schedules: list[ScheduleIn]
    contacts: list[ContactIn]
    referral_route: str
    takes_direct_referrals: bool
    capacity: str
    last_verified_at: datetime | None
    stale: bool
    version: int
    withdrawn_reason: str | None
    created_at: datetime
    updated_at: datetime
    uptake: UptakeRead


class WriteReceipt(BaseModel):
    service: ServiceRead
    change: str | None = Field(description="what the write did; null when nothing changed")
    event_id: uuid.UUID | None


class RevisionRead(BaseModel):
    version: int
    change: str
    actor: str
    actor_org: str | None
    at: datetime
    changes: dict[str, Any]
    reason: str | None


class StaleServiceRead(BaseModel):
    id: uuid.UUID
    name: str
    organization_name: str
    last_verified_at: datetime | None
    version: int


class Page(BaseModel):
    total: int
    page: int
    per_page: int


class StalePage(Page):
    items: list[StaleServiceRead]


class NearestLocation(BaseModel):
    name: str | None
    postcode: str | None
    latitude: float
    longitude: float


class SearchResult(BaseModel):
    id: uuid.UUID
    name: str
    organization_name: str
    description: str
    taxonomy: list[str]
    boroughs: list[str]
    languages: list[str]
    free: bool
    capacity: str
    referral_route: str
    takes_direct_referrals: bool
    last_verified_at: datetime | None
    stale: bool
    score: float = Field(description="relevance to the words searched (higher is better)")
    distance_km: float | None = Field(
        default=None, description="to the nearest location, when a location was given"
    )
    nearest_location: NearestLocation | None = None


class SearchQuery(BaseModel):
    """How the search understood the question."""

    words: list[str]
    needs: list[list[str]] = Field(description="taxonomy terms named in the words")
    corrections: dict[str, str] = Field(description="misspelt word → the word searched")
    latitude: float | None = None
    longitude: float | None = None
    open_at: datetime | None = None


class SearchParameters(BaseModel):
    """The search's query parameters, validated as one model: FastAPI validates a route's
    parameters one by one otherwise, which cost about a sixth of a search's Python."""

    q: str | None = Field(default=None, max_length=200, description="words, typos forgiven")
    postcode: str | None = Field(default=None, max_length=10)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_km: float | None = Field(default=None, gt=0, le=200)
    taxonomy: list[str] | None = Field(
        default=None, description="term codes or ids; descendants included"
    )
    age: int | None = Field(default=None, ge=0, le=130)
    borough: str | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    free: bool | None = None
    open_at: str | None = Field(
        default=None, description="'now', or a date and time (Europe/London if no offset)"
    )
    accepting: bool | None = None
    capacity: Capacity | None = None
    delivery: DeliveryMode | None = None
    accessibility: str | None = Field(default=None, max_length=50)
    referral_route: ReferralRoute | None = None
    sort: str | None = Field(default=None, pattern="^(relevance|distance|name)$")
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=20, ge=1, le=100)


class SearchPage(Page):
    items: list[SearchResult]
    facets: dict[str, dict[str, int]]
    query: SearchQuery


class ImportRequest(_In):
    """An ORUK feed to import: a URL to fetch (its paging is followed), one document, or
    several pages. Exactly one of the three."""

    url: str | None = Field(default=None, pattern=r"^https?://", max_length=2000)
    document: Any = None
    pages: list[Any] | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _one_source(self) -> ImportRequest:
        given = [n for n in ("url", "document", "pages") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of url, document or pages")
        return self


class ImportedPage(BaseModel):
    page: int
    status: str
    error: str | None
    services: int
    published: int
    updated: int
    unchanged: int
    withdrawn: int
    skipped: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    warnings: list[str]


class ImportReport(BaseModel):
    source: str
    pages: list[ImportedPage]
    totals: dict[str, int]


class UptakeRow(BaseModel):
    service_id: uuid.UUID
    name: str
    organization_name: str
    status: str
    routed: int
    accepted: int
    last_referral_at: datetime | None


class UptakePage(Page):
    items: list[UptakeRow]


class ProposalIn(_In):
    changes: ServicePatch
    note: str | None = Field(default=None, max_length=2000, description="why, for the curator")


class DecisionIn(_In):
    note: str | None = Field(default=None, max_length=2000)


class ProposalRead(BaseModel):
    id: uuid.UUID
    service_id: uuid.UUID
    status: str
    changes: dict[str, Any]
    base_version: int
    proposed_by: str
    proposed_by_org: str | None
    proposed_at: datetime
    note: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class ProposalPage(Page):
    items: list[ProposalRead]
