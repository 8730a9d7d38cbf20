"""Overload is not a fault: a request that found no database connection free answers 503
with Retry-After (problem+json), not 500. A clash with stored data is the client's: 409."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine

from carethread.errors import install_problem_handlers


async def test_no_free_database_connection_is_a_503_to_retry_shortly() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/api/v1/things")
    async def busy() -> None:
        # What SQLAlchemy raises when every pooled connection stayed busy for pool_timeout.
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.post("/api/v1/things")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == "1"
    assert r.json()["type"].endswith("/service-busy")
    assert "nothing was saved" in r.json()["detail"]


async def test_a_clash_with_stored_data_is_a_409_not_a_retry(tmp_path: Path) -> None:
    """A uniqueness rule the database enforces: the same request would clash again."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'things.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE thing (id INTEGER PRIMARY KEY)"))
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/api/v1/things/{thing_id}")
    async def add(thing_id: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO thing (id) VALUES (:id)"), {"id": thing_id})

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.post("/api/v1/things/1")).status_code == 200
        r = await client.post("/api/v1/things/1")
    await engine.dispose()
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert "retry-after" not in r.headers
    assert r.json()["type"].endswith("/conflict")
    assert "nothing was saved" in r.json()["detail"]
    assert "INSERT" not in r.text  # the statement stays in the log
