"""The prescriber's question, turned into a search: words planned against the taxonomy
(synonyms, typos), taxonomy ids and descendants, a postcode placed, a time localised."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from carethread.db import UnitOfWork
from carethread.errors import InvalidInput
from directory.domain.opening import LONDON
from directory.domain.search import QueryPlan, query_tokens
from directory.domain.taxonomy import with_descendants
from directory.places import find_postcode
from directory.resolve import field_error
from directory.store.search import search
from directory.store.search_prelude import Prelude, assumed_prelude, read_prelude
from directory.store.search_types import Criteria, Found, Point
from directory.store.spelling import correct_spelling
from directory.store.taxonomy import Terms


def query_error(field: str, message: str) -> InvalidInput:
    error = field_error(field, message) | {"in": "query", "pointer": f"#/{field}"}
    return InvalidInput(message, errors=[error])


def resolve_terms(terms: Terms, values: list[str], field: str) -> list[uuid.UUID]:
    """The terms named (by code or id) and everything below them; 422 for an unknown one."""
    roots: list[str] = []
    for value in values:
        term = terms.find(value)
        if term is None:
            raise query_error(field, f"unknown taxonomy term {value!r}")
        roots.append(str(term.id))
    return [uuid.UUID(t) for t in sorted(with_descendants(roots, terms.parent_of))]


def locate(
    postcode: str | None, lat: float | None, lon: float | None, field: str = "postcode"
) -> Point | None:
    if postcode:
        place = find_postcode(postcode)
        if place is None:
            raise query_error(
                field,
                f"unknown postcode {postcode!r}: it is not a live postcode of the "
                "directory's area; check it, or search by lat and lon",
            )
        return Point(place.latitude, place.longitude)
    if (lat is None) != (lon is None):
        raise query_error("lat" if lat is None else "lon", "lat and lon go together")
    return Point(lat, lon) if lat is not None and lon is not None else None


@dataclass(frozen=True)
class Understood:
    terms: Terms  # the taxonomy the words were planned with
    plan: QueryPlan | None
    concept_term_ids: list[list[uuid.UUID]]


async def understand(
    uow: UnitOfWork, terms: Terms, words: list[str], listed: set[str]
) -> Understood:
    """Plan the words: vocabulary phrases become concepts, misspelt words (neither
    ``listed``, used by the listings, nor the vocabulary's) are corrected."""
    if not words:
        return Understood(terms, None, [])
    corrections = await correct_spelling(uow.session, words, listed, terms.concept_words)
    planned = terms.plan([corrections.get(w, w) for w in words])
    planned = QueryPlan(planned.words, planned.concepts, corrections)
    ids = [
        [uuid.UUID(t) for t in sorted(with_descendants(c.term_ids, terms.parent_of))]
        for c in planned.concepts
    ]
    return Understood(terms, planned, ids)


def when(open_at: str | None, now: datetime) -> datetime | None:
    """``now``, an ISO time with an offset, or a local (Europe/London) time without one."""
    if open_at is None:
        return None
    if open_at.strip().lower() == "now":
        return now
    try:
        at = datetime.fromisoformat(open_at)
    except ValueError as e:
        raise query_error("open_at", "open_at is 'now' or an ISO 8601 date and time") from e
    return at if at.tzinfo is not None else at.replace(tzinfo=LONDON)


async def complete(
    uow: UnitOfWork,
    base: Criteria,
    *,
    q: str | None,
    taxonomy: list[str],
    prelude: Prelude | None = None,
) -> tuple[Criteria, Understood]:
    """``base`` (the plain filters) with the words planned and the taxonomy resolved, with
    ``prelude`` (read now if not given)."""
    words = query_tokens(q or "")
    if prelude is None:
        prelude = await read_prelude(uow.session, words)
    terms = prelude.terms
    understood = await understand(uow, terms, words, prelude.listed_words)
    return (
        replace(
            base,
            plan=understood.plan,
            concept_term_ids=understood.concept_term_ids,
            indexed_phrases=terms.indexed_phrases,
            term_ids=resolve_terms(terms, taxonomy, "taxonomy") if taxonomy else (),
        ),
        understood,
    )


async def find(
    uow: UnitOfWork,
    base: Criteria,
    *,
    q: str | None,
    taxonomy: list[str],
    offset: int,
    limit: int,
) -> tuple[Found, Understood]:
    """``complete`` and ``search``, with facets and the page's details: the prescriber's
    search. On PostgreSQL, words asked before are planned with the taxonomy and the
    listings' words as last read, and the search statement reads them again: if they have
    changed (a synonym added, a word first used by a listing), the search is planned with
    them as they are now and made again. A question asked again is then one statement."""
    words = query_tokens(q or "")

    async def planned_with(prelude: Prelude, *, check: bool) -> tuple[Found, Understood]:
        criteria, understood = await complete(uow, base, q=q, taxonomy=taxonomy, prelude=prelude)
        found = await search(
            uow.session,
            criteria,
            offset=offset,
            limit=limit,
            details=True,
            terms=understood.terms,
            check=words if check else None,
        )
        return found, understood

    assumed = assumed_prelude(uow.session, words)
    if assumed is not None:
        try:
            found, understood = await planned_with(assumed, check=True)
        except InvalidInput:
            pass  # a term named may be new since the taxonomy was read: asked again below
        else:
            if assumed.agrees_with(found.seen):
                return found, understood
    return await planned_with(await read_prelude(uow.session, words), check=False)
