from carethread.db.alembic_env import run
from referrals.store.tables import ReferralsBase

run(ReferralsBase.metadata, "alembic_version")
