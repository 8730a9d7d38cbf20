"""Overload is not a fault: a request that found no database connection free answers 503
with Retry-After (problem+json), not 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.exc import TimeoutError as PoolTimeout

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
