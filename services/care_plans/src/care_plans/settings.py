from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from carethread.settings import ServiceSettings


class CarePlansSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CARE_PLANS_", extra="ignore")
    service_name: ClassVar[str] = "care_plans"
    default_port: ClassVar[int] = 8002

    overdue_check_seconds: float = Field(
        300, ge=0, description="how often to announce newly overdue actions; 0 turns it off"
    )
