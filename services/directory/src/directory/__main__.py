from carethread.service import serve
from directory.app import create_app
from directory.settings import DirectorySettings

settings = DirectorySettings()
serve(create_app(settings), settings)
