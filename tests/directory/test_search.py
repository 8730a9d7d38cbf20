"""The prescriber's question: near a postcode, for an age, in a language, free, open now,
accepting; words with typos and synonyms; taxonomy with its descendants. Public."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy import Connection, Table, delete, event, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

import directory
from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings
from carethread.testing.apps import running, settings_for_test
from carethread.testing.databases import connection_of_another_process
from directory.app import create_app
from directory.domain.geo import haversine_km
from directory.places import find_postcode
from directory.settings import DirectorySettings
from directory.store import search as search_store
from directory.store.tables import TaxonomyTermRow
from directory.store.taxonomy import load_terms
from tests.directory.support import curator, listing

SEARCH = "/api/v1/services/search"
MIGRATIONS = Path(directory.__file__).parent / "migrations"
PLANNING = ["plan_cache_mode", "max_parallel_workers_per_gather"]


@dataclass(frozen=True)
class Running:
    app: FastAPI
    client: httpx.AsyncClient
    database_url: str


@pytest.fixture
async def postgres_directory(postgres_url: str, auth: AuthSettings) -> AsyncIterator[Running]:
    """The directory on its own PostgreSQL database (migrated), for what only it does."""
    app = create_app(
        settings_for_test(DirectorySettings, postgres_url, auth), broker=InMemoryBroker()
    )
    async with running(app) as client:
        yield Running(app, client, postgres_url)


def at(postcode: str, name: str) -> list[dict[str, Any]]:
    return [{"name": name, "postcode": postcode}]


LISTINGS = [
    listing(),  # Archway Befriending: N19 3NU, 60+, en/tr, Mon+Wed 10-16, accepting
    listing(
        "Islington Counselling Service",
        description="Short-term counselling for adults with anxiety or low mood.",
        taxonomy=["counselling"],
        minimum_age=18,
        languages=["en"],
        locations=at("N7 9DP", "Holloway Centre"),
        schedules=[{"byday": ["TU", "WE", "TH", "FR"], "opens_at": "09:00", "closes_at": "17:00"}],
        capacity="full",
    ),
    listing(
        "Camden Food Bank",
        description="Emergency food parcels with a voucher.",
        taxonomy=["food-bank"],
        minimum_age=None,
        boroughs=["Camden"],
        languages=["en"],
        locations=at("NW1 2DB", "Somers Town Hall"),
        schedules=[{"byday": ["SA"], "opens_at": "10:00", "closes_at": "13:00"}],
        referral_route="self_referral",
    ),
    listing(
        "Tottenham Money Matters",
        description="Help with rent arrears, council tax and universal credit claims.",
        organization={"name": "Tottenham Advice (synthetic)"},
        taxonomy=["debt-advice"],
        minimum_age=18,
        boroughs=["Haringey"],
        languages=["en", "so"],
        locations=at("N17 6SB", "High Road Library"),
        schedules=[],
        free=False,
        fees="£5 for a full casework session",
    ),
    listing(
        "Enfield Walking Group",
        description="Gentle guided walks in the parks every Thursday.",
        taxonomy=["physical-activity"],
        minimum_age=None,
        boroughs=["Enfield"],
        languages=["en"],
        locations=at("EN2 6LN", "Town Park gates"),
        schedules=[{"byday": ["TH"], "opens_at": "10:00", "closes_at": "12:00"}],
    ),
]


@pytest.fixture
async def listed(directory_client: httpx.AsyncClient, auth: AuthSettings) -> dict[str, str]:
    ids = {}
    for body in LISTINGS:
        r = await directory_client.post("/api/v1/services", json=body, headers=curator(auth))
        assert r.status_code == 201, r.text
        ids[body["name"]] = r.json()["service"]["id"]
    return ids


async def names(client: httpx.AsyncClient, **params: Any) -> list[str]:
    r = await client.get(SEARCH, params=params)
    assert r.status_code == 200, r.text
    return [item["name"] for item in r.json()["items"]]


async def test_proximity_orders_by_true_distance_and_reports_it(
    directory_client: httpx.AsyncClient, listed: dict[str, str]
) -> None:
    r = await directory_client.get(SEARCH, params={"postcode": "n19 3nu"})  # no token
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    origin = find_postcode("N19 3NU")
    assert origin is not None
    expected = []
    for body in LISTINGS:
        place = find_postcode(body["locations"][0]["postcode"])
        assert place is not None
        km = haversine_km(origin.latitude, origin.longitude, place.latitude, place.longitude)
        expected.append((km, body["name"]))
    expected.sort()
    assert [i["name"] for i in items] == [n for _, n in expected]
    for item, (km, _) in zip(items, expected, strict=True):
        assert item["distance_km"] == pytest.approx(km, abs=0.001)
    assert items[0]["distance_km"] == 0
    assert items[0]["nearest_location"]["postcode"] == "N19 3NU"

    within = await names(directory_client, postcode="N19 3NU", radius_km=3)
    assert within == [n for km, n in expected if km <= 3]
    assert len(within) == 2


async def test_lat_lon_works_like_a_postcode(
    directory_client: httpx.AsyncClient, listed: dict[str, str]
) -> None:
    # Beside Camden's food bank: it comes first.
    found = await names(directory_client, lat=51.5300, lon=-0.1270)
    assert found[0] == "Camden Food Bank"


async def test_a_misspelt_word_is_corrected(
    directory_client: httpx.AsyncClient, listed: dict[str, str]
) -> None:
    r = await directory_client.get(SEARCH, params={"q": "councelling"})
    body = r.json()
    assert [i["name"] for i in body["items"]] == ["Islington Counselling Service"]
    assert body["query"]["corrections"] == {"councelling": "counselling"}


async def test_synonyms_of_a_need_find_services_tagged_below_it(
    directory_client: httpx.AsyncClient, listed: dict[str, str]
) -> None:
    # "loneliness" is a synonym of isolation; befriending sits below isolation.
    assert await names(directory_client, q="loneliness") == ["Archway Befriending"]
    # "money" names the debt and benefits need; the listing is tagged debt advice.
    assert await names(directory_client, q="money") == ["Tottenham Money Matters"]
    # Plain words still have to match: nothing is about loneliness in Camden.
    assert await names(directory_client, q="loneliness camden") == []


async def test_a_synonym_another_replica_adds_is_understood_by_the_next_search(
    directory_client: httpx.AsyncClient, listed: dict[str, str], database_url: str
) -> None:
    # A search takes the vocabulary it read last unless the taxonomy has changed since
    # (on PostgreSQL it asks for the taxonomy's version, not its rows): a synonym written
    # by another process, not through this one, must be seen by the very next search.
    first = (await directory_client.get(SEARCH, params={"q": "pals"})).json()
    assert first["query"]["needs"] == []
    assert first["items"] == []
    async with connection_of_another_process(database_url) as connection:
        befriending = TaxonomyTermRow.__table__.c.code == "befriending"
        await connection.execute(
            update(TaxonomyTermRow).where(befriending).values(synonyms=["befriender", "pals"])
        )
    after = (await directory_client.get(SEARCH, params={"q": "pals"})).json()
    assert len(after["query"]["needs"]) == 1
    assert [i["name"] for i in after["items"]] == ["Archway Befriending"]


@pytest.mark.postgres
async def test_the_taxonomys_version_moves_with_what_a_search_reads_of_it(
    postgres_directory: Running,
) -> None:
    # A search knows its terms are the taxonomy's by its version (directory_0010's
    # triggers), whoever writes the terms; an import's rewrite of them as they were
    # must not make every replica read them again.
    T = TaxonomyTermRow.__table__
    assert isinstance(T, Table)
    befriending = T.c.code == "befriending"
    async with connection_of_another_process(postgres_directory.database_url) as connection:

        async def version() -> int:
            return int(await connection.scalar(text("SELECT version FROM taxonomy_version")))

        before = await version()
        rows = [dict(r._mapping) for r in await connection.execute(T.select())]
        rewrite = insert(T).values(rows)
        columns = {c.name: rewrite.excluded[c.name] for c in T.c if c.name != "id"}
        await connection.execute(rewrite.on_conflict_do_update(index_elements=["id"], set_=columns))
        await connection.execute(update(T).where(befriending).values(description="Visits."))
        assert await version() == before
        await connection.execute(update(T).where(befriending).values(synonyms=["pals"]))
        assert await version() == before + 1
        new_term = {
            "id": uuid.uuid4(),
            "name": "Chess clubs",
            "description": "",
            "synonyms": [],
        }
        await connection.execute(insert(T).values(new_term))
        await connection.execute(delete(T).where(T.c.id == new_term["id"]))
        assert await version() == before + 3


async def test_a_word_a_listing_of_another_replica_starts_using_is_taken_as_written(
    directory_client: httpx.AsyncClient,
    directory_settings: DirectorySettings,
    auth: AuthSettings,
    listed: dict[str, str],
) -> None:
    # On PostgreSQL a search of words asked before plans them as last read (which of them
    # the listings use decides what is a typo) and its statement reads them again: a word
    # first used by a listing written through another replica is no longer corrected.
    if "sqlite" in directory_settings.database_url:
        pytest.skip("SQLite reads the listings' words for every search")
    first = (await directory_client.get(SEARCH, params={"q": "barks"})).json()
    assert first["query"]["corrections"] == {"barks": "parks"}
    assert [i["name"] for i in first["items"]] == ["Enfield Walking Group"]
    therapy_dogs = listing(
        "Canine Companions",
        description="Therapy dogs visit the ward: their barks and wagging tails cheer.",
        taxonomy=["befriending"],
    )
    async with running(create_app(directory_settings, broker=InMemoryBroker())) as other:
        r = await other.post("/api/v1/services", json=therapy_dogs, headers=curator(auth))
        assert r.status_code == 201, r.text
    after = (await directory_client.get(SEARCH, params={"q": "barks"})).json()
    assert after["query"]["corrections"] == {}
    assert [i["name"] for i in after["items"]] == ["Canine Companions"]


@pytest.mark.postgres
async def test_a_question_asked_again_is_one_statement_without_a_transaction_on_postgres(
    postgres_directory: Running, auth: AuthSettings
) -> None:
    client, runtime = postgres_directory.client, postgres_directory.app.state.runtime
    r = await client.post("/api/v1/services", json=listing(), headers=curator(auth))
    assert r.status_code == 201, r.text
    question = {"q": "lonely visits", "postcode": "N19 3NU", "radius_km": 2, "age": 70}
    assert await names(client, **question) == ["Archway Befriending"]
    # Each statement with the isolation its connection ran it in (autocommit: no BEGIN).
    statements: list[tuple[str, object]] = []

    def seen(connection: Connection, _: object, statement: str, *__: object) -> None:
        statements.append((statement, connection.get_execution_options().get("isolation_level")))

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", seen)
    assert await names(client, **question) == ["Archway Befriending"]
    assert [isolation for _, isolation in statements] == ["AUTOCOMMIT"]
    # And each connection plans every statement for its own values, with no workers.
    async with runtime.uow() as uow:
        shown = [await uow.session.scalar(text(f"SHOW {name}")) for name in PLANNING]
    assert shown == ["force_custom_plan", "0"]


async def test_a_need_is_met_by_a_tag_below_it_that_no_word_of_the_listing_names(
    directory_client: httpx.AsyncClient, auth: AuthSettings, listed: dict[str, str]
) -> None:
    # Social groups sit below isolation; nothing in this listing says lonely or isolated.
    # On PostgreSQL the tag is a lexeme of the search row's tsvector (``#term:<id>``): the
    # need is asked as one tsquery of its phrases or its terms.
    chess = listing(
        "Highgate Chess Circle",
        description="Chess on Tuesday afternoons.",
        taxonomy=["social-groups"],
        minimum_age=None,
        locations=at("N6 4AB", "Highgate Library"),
    )
    r = await directory_client.post("/api/v1/services", json=chess, headers=curator(auth))
    assert r.status_code == 201, r.text
    assert sorted(await names(directory_client, q="lonely")) == [
        "Archway Befriending",
        "Highgate Chess Circle",
    ]
    near = await names(directory_client, q="lonely", postcode="N6 4AB", radius_km=1)
    assert near == ["Highgate Chess Circle"]


async def test_a_word_that_begins_a_tags_lexeme_finds_only_listings_with_such_a_word(
    directory_client: httpx.AsyncClient, listed: dict[str, str]
) -> None:
    # A query word is a prefix ("term" finds "terms"); the tags in the search rows'
    # tsvectors must not be found by it, as "term:<id>" was by every word from "t" to "term".
    assert await names(directory_client, q="term") == ["Islington Counselling Service"]
    assert await names(directory_client, q="ter") == ["Islington Counselling Service"]


async def _phrases_as_the_rows_carry_them(connection: AsyncConnection) -> dict[str, int]:
    """Each phrase of ``search_phrase`` with how many rows carry it; fails if a row carries
    one its words do not hold, or misses one they do."""
    wrong = await connection.execute(
        text(
            """SELECT p.phrase, r.service_id FROM search_phrase p, service_search r
            JOIN service s ON s.id = r.service_id
            WHERE (s.search_vector @@ p.query)
                <> (r.search_vector @@ CAST(quote_literal('#phrase:' || p.phrase) AS tsquery))"""
        )
    )
    assert wrong.all() == []
    stray = await connection.scalar(
        text(
            """SELECT count(*) FROM service_search, unnest(tsvector_to_array(search_vector)) l
            WHERE l LIKE '#phrase:%' AND substr(l, 9) NOT IN (SELECT phrase FROM search_phrase)"""
        )
    )
    assert stray == 0
    counted = await connection.execute(
        text(
            """SELECT p.phrase, count(r.service_id) FROM search_phrase p
            LEFT JOIN service_search r
                ON r.search_vector @@ CAST(quote_literal('#phrase:' || p.phrase) AS tsquery)
            GROUP BY p.phrase"""
        )
    )
    return {phrase: n for phrase, n in counted.all()}


@pytest.mark.postgres
async def test_the_taxonomys_phrases_are_lexemes_of_the_rows_whose_words_hold_them(
    postgres_directory: Running, auth: AuthSettings
) -> None:
    # A need's phrase ("lunch club") is asked of the rows' index as one lexeme, which the
    # rows whose words hold it carry (directory_0011): whoever changes the taxonomy, the
    # phrases and the rows' lexemes change with it, and a listing saved later carries the
    # phrases as they are then.
    client, runtime = postgres_directory.client, postgres_directory.app.state.runtime
    for body in (
        listing("Holloway Tea Dance", description="A tea dance every Friday afternoon."),
        listing("Tufnell Park Socials", description="Dance classes, then tea and biscuits."),
    ):
        r = await client.post("/api/v1/services", json=body, headers=curator(auth))
        assert r.status_code == 201, r.text
    async with runtime.uow() as uow:
        terms = await load_terms(uow.session)
    spoken = {p for c in terms.concepts for p in c.phrases if len(p) > 1}
    assert terms.indexed_phrases == spoken  # one tokenisation, in SQL and in Python
    meals = TaxonomyTermRow.__table__.c.code == "community-meals"
    async with connection_of_another_process(postgres_directory.database_url) as connection:
        carried = await _phrases_as_the_rows_carry_them(connection)
        assert set(carried) == {" ".join(p) for p in spoken}
        assert "tea dance" not in carried
        await connection.execute(
            update(TaxonomyTermRow).where(meals).values(synonyms=["tea dance"])
        )
        assert (await _phrases_as_the_rows_carry_them(connection))["tea dance"] == 1
    asked: list[dict[str, Any]] = []

    def seen(_: Connection, __: object, statement: str, parameters: Any, *___: object) -> None:
        asked.append(parameters)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", seen)
    assert await names(client, q="tea dance") == ["Holloway Tea Dance"]
    assert any("'#phrase:tea dance'" in str(p) for p in asked)  # the lexeme was asked
    event.remove(runtime.engine.sync_engine, "before_cursor_execute", seen)
    later = listing("Lido Tea Dance", description="Tea dance by the pool on Sundays.")
    r = await client.post("/api/v1/services", json=later, headers=curator(auth))
    assert r.status_code == 201, r.text
    assert sorted(await names(client, q="tea dance")) == ["Holloway Tea Dance", "Lido Tea Dance"]
    async with connection_of_another_process(postgres_directory.database_url) as connection:
        assert (await _phrases_as_the_rows_carry_them(connection))["tea dance"] == 2
        await connection.execute(update(TaxonomyTermRow).where(meals).values(synonyms=[]))
        assert "tea dance" not in await _phrases_as_the_rows_carry_them(connection)
    # Plain words again: both words anywhere.
    assert sorted(await names(client, q="tea dance")) == [
        "Holloway Tea Dance",
        "Lido Tea Dance",
        "Tufnell Park Socials",
    ]


async def test_words_rank_the_name_above_the_description(
    directory_client: httpx.AsyncClient, auth: AuthSettings, listed: dict[str, str]
) -> None:
    extra = listing(
        "Holloway Lunch Club",
        description="A hot lunch, then a walk for anyone who likes walking groups.",
        taxonomy=["community-meals"],
        locations=at("N7 9DP", "Holloway Centre"),
    )
    r = await directory_client.post("/api/v1/services", json=extra, headers=curator(auth))
    assert r.status_code == 201
    found = await names(directory_client, q="walking group")
    assert found[:2] == ["Enfield Walking Group", "Holloway Lunch Club"]


async def test_a_taxonomy_filter_includes_the_terms_below_it(
    directory_client: httpx.AsyncClient, listed: dict[str, str]
) -> None:
    assert await names(directory_client, taxonomy="mental-wellbeing") == [
        "Enfield Walking Group",
        "Islington Counselling Service",
    ]
    assert await names(directory_client, taxonomy="counselling") == [
        "Islington Counselling Service"
    ]
    assert await names(directory_client, taxonomy=["food", "isolation"]) == [
        "Archway Befriending",
        "Camden Food Bank",
    ]


@pytest.mark.parametrize(
    ("open_at", "expected"),
    [
        # Monday 6 July 2026 is British Summer Time (UTC+1).
        ("2026-07-06T09:30:00Z", ["Archway Befriending"]),  # 10:30 in London: open
        ("2026-07-06T08:30:00Z", []),  # 09:30 in London: not yet
        ("2026-07-06T15:30:00Z", []),  # 16:30 in London: closed at 16:00
        ("2026-07-06T15:30:00", ["Archway Befriending"]),  # no offset: London time
        # Monday 7 December 2026 is GMT: London time is UTC.
        ("2026-12-07T15:30:00Z", ["Archway Befriending"]),
        ("2026-07-09T10:15:00+01:00", ["Enfield Walking Group", "Islington Counselling Service"]),
    ],
)
async def test_open_at_respects_schedules_in_london_time(
    directory_client: httpx.AsyncClient, listed: dict[str, str], open_at: str, expected: list[str]
) -> None:
    assert await names(directory_client, open_at=open_at) == expected


async def test_filters_for_the_person_in_front_of_you(
    directory_client: httpx.AsyncClient, listed: dict[str, str]
) -> None:
    assert "Archway Befriending" not in await names(directory_client, age=30)
    assert "Archway Befriending" in await names(directory_client, age=75)
    assert await names(directory_client, language="tr") == ["Archway Befriending"]
    assert await names(directory_client, free="false") == ["Tottenham Money Matters"]
    assert "Islington Counselling Service" not in await names(directory_client, accepting="true")
    assert await names(directory_client, borough="camden") == ["Camden Food Bank"]
    assert await names(directory_client, delivery="phone", language="so") == [
        "Tottenham Money Matters"
    ]
    assert await names(directory_client, accessibility="step_free") == ["Archway Befriending"]
    assert await names(directory_client, accessibility="step_free", q="walks") == []


async def test_facets_count_the_matching_services(
    directory_client: httpx.AsyncClient, listed: dict[str, str]
) -> None:
    r = await directory_client.get(SEARCH, params={"taxonomy": "mental-wellbeing"})
    facets = r.json()["facets"]
    assert facets["taxonomy"] == {"counselling": 1, "physical-activity": 1}
    assert facets["capacity"] == {"full": 1, "accepting": 1}
    assert facets["borough"] == {"Islington": 1, "Enfield": 1}
    assert facets["free"] == {"true": 2}
    assert facets["language"] == {"en": 2}


async def test_pages(directory_client: httpx.AsyncClient, listed: dict[str, str]) -> None:
    r = await directory_client.get(SEARCH, params={"per_page": 2, "page": 3})
    body = r.json()
    assert body["total"] == 5
    assert [i["name"] for i in body["items"]] == ["Tottenham Money Matters"]  # by name


async def test_withdrawn_services_drop_out(
    directory_client: httpx.AsyncClient, auth: AuthSettings, listed: dict[str, str]
) -> None:
    service_id = listed["Camden Food Bank"]
    r = await directory_client.post(
        f"/api/v1/services/{service_id}/withdraw", json={"reason": "Closed"}, headers=curator(auth)
    )
    assert r.status_code == 200
    assert "Camden Food Bank" not in await names(directory_client)
    assert await names(directory_client, q="food parcels") == []


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"postcode": "ZZ9 9ZZ"}, "postcode", "unknown postcode"),
        ({"taxonomy": "astrology"}, "taxonomy", "unknown taxonomy term"),
        ({"taxonomy": "7d1f6c1e-0000-4000-8000-000000000000"}, "taxonomy", "unknown"),
        ({"radius_km": 2}, "radius_km", "needs a postcode"),
        ({"lat": 51.5}, "lon", "go together"),
        ({"borough": "Atlantis"}, "borough", "unknown borough"),
        ({"open_at": "teatime"}, "open_at", "ISO 8601"),
        ({"per_page": 500}, "per_page", ""),
    ],
)
async def test_bad_questions_are_422_problems_that_say_why(
    directory_client: httpx.AsyncClient, params: dict[str, Any], field: str, words: str
) -> None:
    r = await directory_client.get(SEARCH, params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    (error,) = r.json()["errors"]
    assert error["field"] == field
    assert words in error["message"] or words in r.json()["detail"]


async def test_counts_and_facets_agree_however_many_services_match(
    directory_client: httpx.AsyncClient,
    listed: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Up to a limit the matching ids are read once; past it everything is counted in SQL."""
    params: dict[str, Any] = {"postcode": "N19 3NU", "per_page": 2}
    small = (await directory_client.get(SEARCH, params=params)).json()
    monkeypatch.setattr(search_store, "MATERIALISE_UP_TO", 1)
    large = (await directory_client.get(SEARCH, params=params)).json()
    assert large["total"] == small["total"] == 5
    assert large["facets"] == small["facets"]
    assert large["items"] == small["items"]


async def test_a_capacity_change_is_seen_by_the_next_search(
    directory_client: httpx.AsyncClient, auth: AuthSettings, listed: dict[str, str]
) -> None:
    service_id = listed["Camden Food Bank"]
    assert "Camden Food Bank" in await names(directory_client, accepting="true")
    r = await directory_client.post(
        f"/api/v1/services/{service_id}/capacity", json={"capacity": "full"}, headers=curator(auth)
    )
    assert r.status_code == 200, r.text
    assert "Camden Food Bank" not in await names(directory_client, accepting="true")
    assert "Camden Food Bank" in await names(directory_client, capacity="full")
    facets = (await directory_client.get(SEARCH)).json()["facets"]
    assert facets["capacity"] == {"accepting": 3, "full": 2}


async def test_a_reinstated_service_is_found_again(
    directory_client: httpx.AsyncClient, auth: AuthSettings, listed: dict[str, str]
) -> None:
    service_id = listed["Camden Food Bank"]
    headers = curator(auth)
    base = f"/api/v1/services/{service_id}"
    r = await directory_client.post(f"{base}/withdraw", json={"reason": "Closed"}, headers=headers)
    assert r.status_code == 200, r.text
    r = await directory_client.post(f"{base}/reinstate", headers=headers)
    assert r.status_code == 200, r.text
    assert await names(directory_client, q="food parcels", postcode="NW1 2DB") == [
        "Camden Food Bank"
    ]


async def test_moving_a_shared_location_moves_every_service_there(
    directory_client: httpx.AsyncClient, auth: AuthSettings
) -> None:
    """Two services at one location (the feed gives its id): when one listing moves it,
    a proximity search finds both at the new place, and neither at the old one."""
    shared = {"id": "0b7e3d52-5a7e-4b0e-9a55-2d1f6f3f0c11", "name": "Hall", "postcode": "N19 3NU"}
    ids = []
    for name in ("Hall Lunch Club", "Hall Chair Yoga"):
        body = listing(name, locations=[shared])
        r = await directory_client.post("/api/v1/services", json=body, headers=curator(auth))
        assert r.status_code == 201, r.text
        ids.append(r.json()["service"]["id"])
    moved = [shared | {"postcode": "EN2 6LN"}]
    r = await directory_client.patch(
        f"/api/v1/services/{ids[0]}", json={"locations": moved}, headers=curator(auth)
    )
    assert r.status_code == 200, r.text
    near_new = await names(directory_client, postcode="EN2 6LN", radius_km=1)
    assert sorted(near_new) == ["Hall Chair Yoga", "Hall Lunch Club"]
    assert await names(directory_client, postcode="N19 3NU", radius_km=1) == []


async def test_listings_stored_before_the_search_rows_are_found_the_same_after(
    directory_client: httpx.AsyncClient, listed: dict[str, str], database_url: str
) -> None:
    """Migration directory_0006 builds PostgreSQL's search rows for the listings already
    stored: taken back and applied again, it answers as the write paths had."""
    questions: list[dict[str, Any]] = [
        {"q": "lonely", "postcode": "N19 3NU"},
        {"postcode": "N7 9DP", "radius_km": 10, "accepting": "true"},
        {"borough": "Camden", "sort": "name"},
    ]
    before = [(await directory_client.get(SEARCH, params=p)).json() for p in questions]
    for revision in ("directory_0005", "head"):
        async with connection_of_another_process(database_url) as connection:
            await connection.run_sync(_migrate_directory, revision)
    after = [(await directory_client.get(SEARCH, params=p)).json() for p in questions]
    assert after == before
    assert [page["total"] for page in after] == [1, 3, 1]


def _migrate_directory(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    if revision == "head":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)
