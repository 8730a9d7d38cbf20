from carethread.db.alembic_env import run
from outcomes.store.tables import OutcomesBase

run(OutcomesBase.metadata, "alembic_version")
