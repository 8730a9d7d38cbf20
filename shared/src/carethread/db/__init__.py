"""Databases: engines, the unit of work, platform tables and migrations."""

from carethread.db.base import PlatformBase, UtcDateTime, new_metadata, utcnow
from carethread.db.engine import (
    create_engine,
    is_postgres,
    is_sqlite,
    on_postgres,
    session_factory,
)
from carethread.db.keys import among
from carethread.db.migrate import MigrationSource, migrate
from carethread.db.person_alias import PersonAliasColumns, current_person_id
from carethread.db.uow import UnitOfWork
from carethread.db.upserts import conflict_insert

__all__ = [
    "MigrationSource",
    "PersonAliasColumns",
    "PlatformBase",
    "UnitOfWork",
    "UtcDateTime",
    "among",
    "conflict_insert",
    "create_engine",
    "current_person_id",
    "is_postgres",
    "is_sqlite",
    "migrate",
    "new_metadata",
    "on_postgres",
    "session_factory",
    "utcnow",
]
