from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from carethread.settings import ServiceSettings


class DirectorySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTORY_", extra="ignore")
    service_name: ClassVar[str] = "directory"
    default_port: ClassVar[int] = 8003

    # A listing nobody has verified for this long is flagged stale (DIRECTORY_STALE_AFTER_DAYS).
    stale_after_days: int = 180
    # ORUK feeds fetched by URL: how long to wait, and how many pages to follow at most.
    import_timeout_seconds: float = 30
    import_max_pages: int = 1000

    @property
    def stale_after(self) -> timedelta:
        return timedelta(days=self.stale_after_days)
