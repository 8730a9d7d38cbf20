from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from carethread.testing.databases import temporary_postgres_database


@pytest.fixture
async def other_database_url(database_url: str) -> AsyncIterator[str]:
    """A second empty database of the same kind, to build the view twice and compare."""
    if database_url.startswith("sqlite"):
        yield database_url.replace("test.db", "other.db")
        return
    async with temporary_postgres_database() as url:
        yield url
