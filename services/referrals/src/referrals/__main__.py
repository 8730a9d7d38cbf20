from carethread.service import serve
from referrals.settings import ReferralsSettings

settings = ReferralsSettings()
serve("referrals.app:create_app", settings)
