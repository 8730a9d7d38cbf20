"""The search rows answer as the listing's own tables do: on the demo directory (320
generated listings across NCL, written by the curators' path), every question gets the
same services, order, distances, scores and facet counts from the search rows
(``search``) as from the normalised search kept as their reference; a page's details read
with the page (PostgreSQL) are those the separate reads give; and SQLite and PostgreSQL
answer the same questions alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from carethread.messaging import InMemoryBroker
from carethread.testing.apps import auth_settings, running, settings_for_test
from carethread.testing.databases import temporary_postgres_database
from directory import searching
from directory.app import create_app
from directory.domain.opening import LocalInstant
from directory.places import find_postcode
from directory.settings import DirectorySettings
from directory.store import results, row_search
from directory.store.search import normalised_search, search
from directory.store.search_terms import any_words, phrase_postgres
from directory.store.search_types import Criteria, Found, Point

pytestmark = pytest.mark.slow

archway = find_postcode("N19 3NU")
assert archway is not None
ARCHWAY = Point(archway.latitude, archway.longitude)

# (words, taxonomy, the plain filters): what prescribers and the ORUK/FHIR callers ask.
QUESTIONS: list[tuple[str | None, list[str], Criteria]] = [
    (None, [], Criteria(sort="name")),
    (None, [], Criteria(near=ARCHWAY, radius_km=3, sort="distance")),
    (None, [], Criteria(near=ARCHWAY, sort="distance")),
    (None, [], Criteria(age=70, language="en", accepting=True, sort="name")),
    (None, [], Criteria(borough="Camden", free=True, sort="name")),
    (None, [], Criteria(referral_route="self_referral", capacity="full", sort="name")),
    (None, [], Criteria(open_at=LocalInstant(weekday=0, minute=600), sort="name")),
    (None, [], Criteria(open_on=2, open_from=540, open_until=1020, sort="name")),
    (None, [], Criteria(delivery="phone", accessibility="step_free", sort="name")),
    (None, [], Criteria(minimum_age=18, maximum_age=130, sort="name")),
    (None, [], Criteria(name_contains="bank", sort="name")),
    (None, [], Criteria(active=False, sort="name")),
    (None, ["food-bank"], Criteria(sort="name")),
    ("debt advice", [], Criteria()),
    ("councelling", [], Criteria(age=30, language="en", accepting=True)),
    ("lonely", [], Criteria(near=ARCHWAY, radius_km=5)),
    ("food bank", [], Criteria(near=ARCHWAY, radius_km=4, sort="distance")),
    ("walking group", [], Criteria(near=ARCHWAY)),
    ("english classes", [], Criteria(free=True)),
    ("carers", ["befriending"], Criteria()),
]


def _settings(url: str, tmp_path: Path) -> DirectorySettings:
    return settings_for_test(DirectorySettings, url, auth_settings(tmp_path), load_demo_data=True)


@pytest.fixture
async def demo(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    app = create_app(_settings(database_url, tmp_path), broker=InMemoryBroker())
    async with running(app):
        yield app.state.runtime


async def _criteria(uow: Any, words: str | None, taxonomy: list[str], base: Criteria) -> Criteria:
    criteria, _ = await searching.complete(uow, base, q=words, taxonomy=taxonomy)
    return criteria


def _seen(found: Found) -> tuple[Any, ...]:
    hits = [
        (
            h.service_id,
            h.name,
            round(h.score, 9),
            None if h.distance_km is None else round(h.distance_km, 9),
        )
        for h in found.hits
    ]
    return found.total, hits, found.facets


async def test_the_search_rows_answer_as_the_listings_tables(demo: Any) -> None:
    answered = 0
    async with demo.uow() as uow:
        for words, taxonomy, base in QUESTIONS:
            c = await _criteria(uow, words, taxonomy, base)
            for offset, limit in ((0, 500), (5, 7)):
                rows = await search(uow.session, c, offset=offset, limit=limit, details=True)
                tables = await normalised_search(uow.session, c, offset=offset, limit=limit)
                assert _seen(rows) == _seen(tables), (words, base)
                answered += rows.total > 0
                if rows.details is None:
                    continue
                ids = [h.service_id for h in rows.hits]
                assert rows.details.summaries == await results.summaries(uow.session, ids)
                assert rows.details.labels == await results.labels(uow.session, ids)
                expected = await results.places(uow.session, ids) if c.near else {}
                assert rows.details.places == expected
    assert answered >= len(QUESTIONS) * 2 - 4  # the questions find services


async def test_relevance_is_worked_out_for_candidates_as_the_full_order_gives(
    demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ordered by relevance, ts_rank_cd is worked out only for the best by ts_rank and the
    # nearest (at least RANKED_AT_LEAST each, four pages' worth): with a bound this small,
    # a page comes from a few candidates of many matches, and must still be the page of
    # the full order (on this directory), with the total and facets of every match.
    monkeypatch.setattr(row_search, "RANKED_AT_LEAST", 1)
    bounded = 0
    async with demo.uow() as uow:
        for words, taxonomy, base in QUESTIONS:
            if words is None or base.sort != "relevance":
                continue
            c = await _criteria(uow, words, taxonomy, base)
            for offset, limit in ((0, 3), (2, 2), (0, 1)):
                rows = await search(uow.session, c, offset=offset, limit=limit)
                tables = await normalised_search(uow.session, c, offset=offset, limit=limit)
                assert _seen(rows) == _seen(tables), (words, base, offset, limit)
                bounded += rows.total > 8 * (offset + limit)
    assert bounded >= 3  # pages chosen from fewer candidates than matches


SEARCH = "/api/v1/services/search"
PAGES: list[dict[str, Any]] = [
    {"per_page": 100, "sort": "name"},
    {"postcode": "N19 3NU", "radius_km": 3, "per_page": 100},
    {"postcode": "N17 6SB", "age": 40, "language": "en", "accepting": "true", "per_page": 50},
    {"borough": "Barnet", "free": "true", "sort": "name", "per_page": 100},
    {"taxonomy": "food-bank", "postcode": "EN2 6LN", "per_page": 100},
    {"open_at": "2026-12-02T11:00:00", "sort": "name", "per_page": 100},
    {"q": "debt advice", "postcode": "N17 6SB", "radius_km": 5, "sort": "distance"},
    {"q": "councelling", "sort": "name", "per_page": 100},
]


def _comparable(page: dict[str, Any]) -> dict[str, Any]:
    """A page without what each database's own relevance says (scores) or when the listings
    were written (their verification times)."""
    items = [
        {k: v for k, v in item.items() if k not in ("score", "last_verified_at", "stale")}
        for item in page["items"]
    ]
    return page | {"items": items}


@pytest.mark.postgres
async def test_sqlite_and_postgresql_answer_alike(tmp_path: Path) -> None:
    answers: list[list[dict[str, Any]]] = []
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}"
    async with temporary_postgres_database() as postgres:
        for url in (sqlite, postgres):
            app = create_app(_settings(url, tmp_path), broker=InMemoryBroker())
            async with running(app) as client:
                answers.append([_comparable(await _page(client, p)) for p in PAGES])
    on_sqlite, on_postgres = answers
    for question, a, b in zip(PAGES, on_sqlite, on_postgres, strict=True):
        assert a == b, question
    assert all(page["total"] > 0 for page in on_sqlite)


async def _page(client: httpx.AsyncClient, params: dict[str, Any]) -> dict[str, Any]:
    r = await client.get(SEARCH, params=params)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


async def test_relevance_leaves_out_only_phrases_that_change_no_score(demo: Any) -> None:
    # The relevance query leaves out a need's phrases that hold a word the query asks for
    # alone ("money advice" beside "money"): every listing must score as it would with
    # every phrase asked, and some phrase must have been left out.
    if demo.engine.dialect.name != "postgresql":
        pytest.skip("the relevance query is PostgreSQL's ts_rank_cd")
    every_phrase = 0
    async with demo.uow() as uow:
        for words, taxonomy, base in QUESTIONS:
            c = await _criteria(uow, words, taxonomy, base)
            if c.plan is None or not c.plan.concepts:
                continue
            parts = [f"{w}:*" for w in c.plan.words]
            parts += [phrase_postgres(p) for concept in c.plan.concepts for p in concept.phrases]
            full = " | ".join(f"({p})" for p in parts)
            asked = any_words(c.plan, True)
            every_phrase += asked != full
            differing = await uow.session.scalar(
                text(
                    "SELECT count(*) FROM service_search WHERE "
                    "ts_rank_cd(search_vector, to_tsquery('english', :full)) "
                    "<> ts_rank_cd(search_vector, to_tsquery('english', :asked))"
                ),
                {"full": full, "asked": asked},
            )
            assert differing == 0, (words, full, asked)
    assert every_phrase >= 2
