"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from care_plans.app import DEFINITION
from care_plans.store.tables import CarePlansBase
from carethread.testing.schema import migrated_schema_differences


async def test_the_migrated_schema_matches_the_table_models(database_url: str) -> None:
    differences = await migrated_schema_differences(
        database_url, DEFINITION.migrations, CarePlansBase.metadata
    )
    assert differences == []
