from carethread.service import serve
from mdt.app import create_app
from mdt.settings import MdtSettings

settings = MdtSettings()
serve(create_app(settings), settings)
