from carethread.service import serve
from mdt.settings import MdtSettings

settings = MdtSettings()
serve("mdt.app:create_app", settings)
