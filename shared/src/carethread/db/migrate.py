"""Apply migrations at start-up: the platform tables first, then the service's own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
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


async def migrate(engine: AsyncEngine, service: MigrationSource | None) -> None:
    """Upgrade the platform tables, then (if given) the service's own, to head."""
    for source in (PLATFORM, service) if service else (PLATFORM,):
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, source)
