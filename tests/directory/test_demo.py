"""Demo data for ``make run``: 300+ listings across the five boroughs at real postcodes,
loaded once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from carethread.db import create_engine, session_factory
from carethread.messaging import InMemoryBroker
from carethread.reference import load_geography
from carethread.testing.apps import running
from directory.app import create_app
from directory.settings import DirectorySettings
from directory.store.tables import LocationRow, ServiceRow
from tests.directory.support import outbox


async def counts(url: str) -> tuple[int, set[str], int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            services = await s.scalar(select(func.count()).select_from(ServiceRow)) or 0
            postcodes = set((await s.scalars(select(LocationRow.postcode))).all())
            full = await s.scalar(
                select(func.count()).select_from(ServiceRow).where(ServiceRow.capacity == "full")
            )
    finally:
        await engine.dispose()
    return services, {p for p in postcodes if p}, full or 0


@pytest.mark.slow
async def test_demo_listings_load_once_across_ncl(directory_settings: DirectorySettings) -> None:
    settings = directory_settings.model_copy(update={"load_demo_data": True})
    async with running(create_app(settings, broker=InMemoryBroker())) as client:
        r = await client.get("/api/v1/services/search", params={"per_page": 1})
        facets = r.json()["facets"]
        near = await client.get(
            "/api/v1/services/search",
            params={"postcode": "N17 6SB", "q": "debt", "radius_km": 5, "per_page": 5},
        )
    total, postcodes, full = await counts(settings.database_url)
    assert total >= 300
    assert full > 0
    geography = load_geography()
    assert postcodes <= set(geography.postcodes)  # real NCL postcodes
    assert {geography.postcodes[p].borough for p in postcodes} == {
        "Barnet",
        "Camden",
        "Enfield",
        "Haringey",
        "Islington",
    }
    assert set(facets["borough"]) == {"Barnet", "Camden", "Enfield", "Haringey", "Islington"}
    assert len(facets["language"]) > 5
    assert facets["taxonomy"]["food-bank"] > 0
    items = near.json()["items"]
    assert items
    assert all(i["distance_km"] <= 5 for i in items)
    events = len(await outbox(settings.database_url))
    assert events == total  # one published event per listing

    async with running(create_app(settings, broker=InMemoryBroker())) as client:
        assert (await client.get("/health/live")).status_code == 200
    assert (await counts(settings.database_url))[0] == total  # not loaded twice
    assert len(await outbox(settings.database_url)) == events
