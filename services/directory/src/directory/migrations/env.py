from carethread.db.alembic_env import run
from directory.store.tables import DirectoryBase

run(DirectoryBase.metadata, "alembic_version")
