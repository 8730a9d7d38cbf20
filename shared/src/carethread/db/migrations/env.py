from carethread.db.alembic_env import run
from carethread.db.base import PlatformBase

run(PlatformBase.metadata, "carethread_platform_version")
