from care_plans.store.tables import CarePlansBase
from carethread.db.alembic_env import run

run(CarePlansBase.metadata, "alembic_version")
