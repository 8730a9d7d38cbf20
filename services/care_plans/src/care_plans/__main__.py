from care_plans.settings import CarePlansSettings
from carethread.service import serve

settings = CarePlansSettings()
serve("care_plans.app:create_app", settings)
