"""What every Alembic ``env.py`` of the project runs: online migrations on the connection
the caller passes in ``config.attributes`` (the service's async engine at start-up)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData


def run(target_metadata: MetaData, version_table: str) -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("CareThread migrations run through carethread.db.migrate()")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=version_table,
        # SQLite cannot ALTER most things in place: batch mode recreates the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
