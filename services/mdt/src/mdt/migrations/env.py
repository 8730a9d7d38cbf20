from carethread.db.alembic_env import run
from mdt.store.tables import MdtBase

run(MdtBase.metadata, "alembic_version")
