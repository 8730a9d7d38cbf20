from carethread.service import serve
from directory.settings import DirectorySettings

settings = DirectorySettings()
serve("directory.app:create_app", settings)
