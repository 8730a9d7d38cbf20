"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from carethread.testing.schema import migrated_schema_differences
from outcomes.app import DEFINITION
from outcomes.store.tables import OutcomesBase


async def test_the_migrated_schema_matches_the_table_models(database_url: str) -> None:
    differences = await migrated_schema_differences(
        database_url, DEFINITION.migrations, OutcomesBase.metadata
    )
    assert differences == []
