from carethread.db.alembic_env import run
from care_plans.store.tables import CarePlansBase

run(CarePlansBase.metadata, "alembic_version")
