from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from carethread.settings import ServiceSettings


class ReferralsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRALS_", extra="ignore")
    service_name: ClassVar[str] = "referrals"
    default_port: ClassVar[int] = 8001
