from carethread.service import serve
from outcomes.settings import OutcomesSettings

settings = OutcomesSettings()
serve("outcomes.app:create_app", settings)
