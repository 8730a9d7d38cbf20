from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from carethread.settings import ServiceSettings


class MdtSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MDT_", extra="ignore")
    service_name: ClassVar[str] = "mdt"
    default_port: ClassVar[int] = 8005
    max_wait_ms: int = 10_000
    # How often an open caseload stream looks for changes, and sends a keep-alive.
    stream_poll_ms: int = 250
    stream_keepalive_s: float = 15.0
