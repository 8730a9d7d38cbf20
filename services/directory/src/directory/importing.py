"""Importing ORUK feeds. Each page is one transaction: a page that cannot be read or written
is reported and leaves nothing behind, and the other pages still import. Re-importing
updates listings in place (feed ids map to stable ids) and publishes only real changes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError

from carethread.auth import Principal
from carethread.db import UnitOfWork
from carethread.errors import Problem
from carethread.observability.logging import get_logger
from directory import saving_many, use_cases
from directory.api.schemas import ServiceIn
from directory.domain.listing import Change, Status
from directory.domain.search import tokens
from directory.oruk.ids import feed_id
from directory.oruk.parse import FeedError, FeedService, FeedTerm, read_service, services_in
from directory.store import listings as store
from directory.store.tables import ServiceRow, TaxonomyRow, TaxonomyTermRow
from directory.store.taxonomy import Term, Terms, load_terms

log = get_logger(__name__)
COUNTED = {
    Change.PUBLISHED: "published",
    Change.UPDATED: "updated",
    Change.CAPACITY_CHANGED: "updated",
    Change.WITHDRAWN: "withdrawn",
}


@dataclass
class PageReport:
    page: int
    status: str = "imported"  # imported | rejected
    error: str | None = None
    services: int = 0
    published: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def needs_terms(terms: Terms, name: str) -> list[Term]:
    """Vocabulary terms a feed's term names exactly, by name or synonym ("Food banks"
    is not "Food bank"; "Foodbank" is a synonym)."""
    return terms.vocabulary_named(tuple(tokens(name)))


async def save_terms(uow: UnitOfWork, feed_terms: list[FeedTerm]) -> None:
    """The feed's taxonomies and terms, upserted (the first of a term given twice)."""
    taxonomies: dict[uuid.UUID, dict[str, Any]] = {}
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    for term in feed_terms:
        if term.id in rows:
            continue
        taxonomy_id = feed_id("taxonomy", term.taxonomy) if term.taxonomy else None
        if taxonomy_id is not None:
            taxonomies.setdefault(
                taxonomy_id,
                {"id": taxonomy_id, "name": term.taxonomy, "description": term.taxonomy},
            )
        rows[term.id] = {
            "id": term.id,
            "taxonomy_id": taxonomy_id,
            "name": term.name,
            "description": term.description,
            "parent_id": term.parent_id,
            "term_uri": term.term_uri,
        }
    await store.upsert_many(uow.session, TaxonomyRow.__table__, list(taxonomies.values()), "id")
    await store.upsert_many(uow.session, TaxonomyTermRow.__table__, list(rows.values()), "id")


async def _import_one(
    uow: UnitOfWork, item: FeedService, terms: Terms, principal: Principal, now: datetime
) -> str:
    """What happened to one (readable) service: a counter's name or 'skipped: why'."""
    assert item.listing is not None
    if item.status != "active":
        row = await uow.session.get(ServiceRow, item.listing.id)
        if row is None or row.status == Status.WITHDRAWN:
            return f"skipped: the feed marks it {item.status}"
        reason = f"The feed marks it {item.status}."
        await use_cases.withdraw_service(uow, row.id, reason, principal, now=now)
        return "withdrawn"
    written = await use_cases.save_listing(
        uow, _with_needs(item, terms), principal, now=now, terms=terms, strict=False
    )
    item.warnings.extend(written.warnings)
    return COUNTED.get(written.change, "updated") if written.change else "unchanged"


def _with_needs(item: FeedService, terms: Terms) -> ServiceIn:
    """The listing, tagged also with the vocabulary terms its feed categories name."""
    assert item.listing is not None
    extra = [t.label for f in item.terms for t in needs_terms(terms, f.name)]
    return item.listing.model_copy(
        update={"taxonomy": list(dict.fromkeys([*item.listing.taxonomy, *extra]))}
    )


def _refused(item: FeedService, e: Problem) -> str:
    item.errors = list(e.extensions.get("errors") or []) or [
        {"field": "", "message": e.detail or e.title}
    ]
    return "rejected"


async def _one_by_one(
    uow: UnitOfWork, items: list[FeedService], terms: Terms, principal: Principal, now: datetime
) -> dict[int, str]:
    outcomes: dict[int, str] = {}
    for item in items:
        try:
            async with uow.session.begin_nested():  # one listing, all or nothing
                outcomes[item.index] = await _import_one(uow, item, terms, principal, now)
        except Problem as e:
            outcomes[item.index] = _refused(item, e)
    return outcomes


async def _outcomes(
    uow: UnitOfWork, items: list[FeedService], terms: Terms, principal: Principal, now: datetime
) -> dict[int, str]:
    """What happened to each service of a page: a counter's name, 'rejected' or
    'skipped: why'. Active listings are saved together (a statement per table, not per
    listing); withdrawals, and pages that name a service twice, one by one."""
    outcomes = {item.index: "rejected" for item in items if item.errors}
    readable = [item for item in items if not item.errors]
    active = [item for item in readable if item.status == "active"]
    bodies = [_with_needs(item, terms) for item in active]
    if saving_many.has_repeated_ids(bodies):
        return outcomes | await _one_by_one(uow, readable, terms, principal, now)
    results = await saving_many.save_listings(uow, bodies, principal, now=now, terms=terms)
    for item, result in zip(active, results, strict=True):
        if isinstance(result, Problem):
            outcomes[item.index] = _refused(item, result)
            continue
        item.warnings.extend(result.warnings)
        outcomes[item.index] = (
            COUNTED.get(result.change, "updated") if result.change else "unchanged"
        )
    others = [item for item in readable if item.status != "active"]
    return outcomes | await _one_by_one(uow, others, terms, principal, now)


def _count(report: PageReport, item: FeedService, outcome: str) -> None:
    if outcome == "rejected":
        report.rejected.append(
            {"index": item.index, "id": item.feed_id, "name": item.name} | {"errors": item.errors}
        )
    elif outcome.startswith("skipped"):
        report.skipped.append({"index": item.index, "id": item.feed_id, "reason": outcome[9:]})
    else:
        setattr(report, outcome, getattr(report, outcome) + 1)
    report.warnings.extend(f"service {item.index}: {w}" for w in item.warnings)


async def import_page(
    uow_factory: Callable[[], UnitOfWork],
    number: int,
    document: object,
    principal: Principal,
    *,
    now: datetime,
) -> PageReport:
    report = PageReport(number)
    try:
        items = [read_service(i, raw) for i, raw in enumerate(services_in(document))]
    except FeedError as e:
        report.status, report.error = "rejected", str(e)
        return report
    report.services = len(items)
    async with uow_factory() as uow:
        try:
            await store.plan_repeated_writes_once(uow.session)
            await save_terms(uow, [t for item in items if item.listing for t in item.terms])
            terms = await load_terms(uow.session)
            outcomes = await _outcomes(uow, items, terms, principal, now)
            for item in items:
                _count(report, item, outcomes[item.index])
            await uow.commit()
        except SQLAlchemyError as e:
            log.warning("import page failed", page=number, error=repr(e))
            return PageReport(
                number,
                status="rejected",
                error=f"the page could not be saved ({type(e).__name__}); nothing from it was kept",
                services=len(items),
            )
    return report


@dataclass(frozen=True)
class FetchedPage:
    number: int
    document: object
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def _total_pages(document: object) -> int | None:
    if isinstance(document, dict):
        for key in ("total_pages", "totalPages"):
            if isinstance(document.get(key), int):
                return int(document[key])
    return None


# A 3.0 list page carries only a service's one-to-one fields; the rest is at /services/{id}.
NESTED = ("service_at_locations", "schedules", "attributes", "contacts", "cost_options")


async def _full_services(
    client: httpx.AsyncClient, url: str, document: object
) -> tuple[object, list[str]]:
    """A 3.0 page with each summary replaced by the full service, where it can be had."""
    if not isinstance(document, dict) or not isinstance(document.get("contents"), list):
        return document, []
    base = str(httpx.URL(url).copy_with(query=None)).rstrip("/")
    contents, problems = [], []
    for summary in document["contents"]:
        item = summary
        is_summary = isinstance(summary, dict) and not any(k in summary for k in NESTED)
        if is_summary and summary.get("id"):
            try:
                response = await client.get(f"{base}/{summary['id']}")
                response.raise_for_status()
                item = response.json()
            except (httpx.HTTPError, ValueError) as e:
                problems.append(f"service {summary['id']}: only its summary could be read ({e})")
        contents.append(item)
    return document | {"contents": contents}, problems


async def fetch_pages(
    client: httpx.AsyncClient, url: str, *, max_pages: int
) -> AsyncIterator[FetchedPage]:
    """The feed's pages, following its paging (3.0 ``total_pages``, v1 ``totalPages``); a
    page that cannot be fetched or parsed is yielded with its error."""
    number, total = 1, 1
    while number <= min(total, max_pages):
        target = httpx.URL(url)
        if number > 1:
            target = target.copy_merge_params({"page": number})
        try:
            response = await client.get(target)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as e:
            yield FetchedPage(number, None, f"could not fetch {target}: {e}")
            if number == 1:
                return
        else:
            if number == 1:
                total = _total_pages(document) or 1
            document, problems = await _full_services(client, url, document)
            yield FetchedPage(number, document, warnings=problems)
        number += 1
