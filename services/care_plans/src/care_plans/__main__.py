from care_plans.app import create_app
from care_plans.settings import CarePlansSettings
from carethread.service import serve

settings = CarePlansSettings()
serve(create_app(settings), settings)
