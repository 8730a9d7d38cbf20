from carethread.service import serve
from care_plans.app import create_app
from care_plans.settings import CarePlansSettings

settings = CarePlansSettings()
serve(create_app(settings), settings)
