from carethread.service import serve
from outcomes.app import create_app
from outcomes.settings import OutcomesSettings

settings = OutcomesSettings()
serve(create_app(settings), settings)
