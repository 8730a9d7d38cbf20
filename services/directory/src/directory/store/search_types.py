"""What a search asks (every name resolved) and what it finds."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from directory.domain.opening import LocalInstant
from directory.domain.search import QueryPlan
from directory.store.results import Place, Summary


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Criteria:
    """A search, with every name already resolved (terms to ids, postcode to a point)."""

    plan: QueryPlan | None = None
    term_ids: Sequence[uuid.UUID] = ()  # any of these (descendants included by the caller)
    age: int | None = None
    minimum_age: float | None = None  # ORUK: services whose minimum age is at least this
    maximum_age: float | None = None  # ORUK: services whose maximum age is at most this
    borough: str | None = None
    language: str | None = None
    delivery: str | None = None
    accessibility: str | None = None
    free: bool | None = None
    accepting: bool | None = None
    capacity: str | None = None
    referral_route: str | None = None
    open_at: LocalInstant | None = None
    open_on: int | None = None  # a weekday, with ``open_from``/``open_until`` (ORUK)
    open_from: int | None = None
    open_until: int | None = None
    near: Point | None = None
    radius_km: float | None = None
    name_contains: str | None = None  # FHIR's name search
    active: bool = True  # False: withdrawn listings only
    sort: str = "relevance"  # relevance | distance | name
    concept_term_ids: Sequence[Sequence[uuid.UUID]] = ()  # per plan concept, with descendants
    # PostgreSQL: the phrases the search rows carry as lexemes (``Terms.indexed_phrases``).
    indexed_phrases: frozenset[tuple[str, ...]] = frozenset()


@dataclass(frozen=True)
class Hit:
    service_id: uuid.UUID
    name: str
    score: float
    distance_km: float | None


@dataclass(frozen=True)
class Details:
    """What a page of results shows of its services (``store.results``), when the search
    read it with the page."""

    summaries: dict[uuid.UUID, Summary]
    labels: dict[uuid.UUID, list[str]]
    places: dict[uuid.UUID, list[Place]]


@dataclass(frozen=True)
class Seen:
    """What a search's words were planned with, as its statement saw it: the taxonomy's
    version and which of the words the listings use (``search_prelude``)."""

    version: str
    listed_words: frozenset[str]


@dataclass
class Found:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    details: Details | None = None
    seen: Seen | None = None  # when the search was asked to check (``row_search``)
