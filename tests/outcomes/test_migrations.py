"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from carethread.db import create_engine, migrate
from outcomes.app import DEFINITION
from outcomes.store.tables import OutcomesBase

PLATFORM_TABLES = {"outbox", "inbox", "audit_record", "carethread_platform_version"}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": False, "version_table": "alembic_version"}
    )
    diffs = compare_metadata(context, OutcomesBase.metadata)
    # The platform's own tables are migrated (and checked) by the library.
    return [
        d
        for d in diffs
        if not (d[0] == "remove_table" and d[1].name in PLATFORM_TABLES)
        and not (d[0] == "remove_index" and d[1].table.name in PLATFORM_TABLES)
    ]


async def test_the_migrated_schema_matches_the_table_models(database_url: str) -> None:
    engine = create_engine(database_url)
    await migrate(engine, DEFINITION.migrations)
    async with engine.connect() as connection:
        diffs = await connection.run_sync(_differences)
    await engine.dispose()
    assert diffs == []
