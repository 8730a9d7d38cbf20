from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from carethread.settings import ServiceSettings


class OutcomesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OUTCOMES_", extra="ignore")
    service_name: ClassVar[str] = "outcomes"
    default_port: ClassVar[int] = 8004
