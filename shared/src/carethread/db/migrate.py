"""Apply migrations at start-up: the platform tables first, then the service's own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

PLATFORM_MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class MigrationSource:
    script_location: Path
    version_table: str


PLATFORM = MigrationSource(PLATFORM_MIGRATIONS, "carethread_platform_version")


def _upgrade(connection: Connection, source: MigrationSource) -> None:
    config = Config()
    config.set_main_option("script_location", str(source.script_location))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


# Several processes of one service (workers, replicas) start at once: on PostgreSQL the first
# to take this transaction-scoped lock migrates, the others wait and then find nothing to do.
# (SQLite's write transactions already queue behind one another.)
_MIGRATION_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('carethread-migrations'))")


async def migrate(engine: AsyncEngine, service: MigrationSource | None) -> None:
    """Upgrade the platform tables, then (if given) the service's own, to head."""
    for source in (PLATFORM, service) if service else (PLATFORM,):
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(_MIGRATION_LOCK)
            await connection.run_sync(_upgrade, source)
