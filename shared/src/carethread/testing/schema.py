"""Does a service's migrated database hold exactly the tables its models declare?"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData

from carethread.db import create_engine, migrate
from carethread.db.migrate import MigrationSource

# The library migrates (and checks) its own tables; a service's models do not declare them.
PLATFORM_TABLES = frozenset({"outbox", "inbox", "audit_record", "carethread_platform_version"})


def _differences(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": False, "version_table": "alembic_version"}
    )
    return [
        d
        for d in compare_metadata(context, metadata)
        if not (d[0] == "remove_table" and d[1].name in PLATFORM_TABLES)
        and not (d[0] == "remove_index" and d[1].table.name in PLATFORM_TABLES)
    ]


async def migrated_schema_differences(
    database_url: str, migrations: MigrationSource | None, metadata: MetaData
) -> list[Any]:
    """Migrate the database at ``database_url``, then list how it differs from ``metadata``
    (Alembic's autogenerate comparison: tables, columns, indexes, foreign keys)."""
    engine = create_engine(database_url)
    try:
        await migrate(engine, migrations)
        async with engine.connect() as connection:
            return await connection.run_sync(_differences, metadata)
    finally:
        await engine.dispose()
