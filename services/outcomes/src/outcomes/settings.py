from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from carethread.settings import ServiceSettings


class OutcomesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OUTCOMES_", extra="ignore")
    service_name: ClassVar[str] = "outcomes"
    default_port: ClassVar[int] = 8004

    # Small-number suppression in published output (OUTCOMES_SUPPRESS_UP_TO, ..._ROUND_TO):
    # counts from 1 to this are suppressed; the others are rounded to the nearest ROUND_TO.
    suppress_up_to: int = 7
    round_to: int = 5
    # How often the key indicators are recomputed and, where they moved, announced
    # (OUTCOMES_INDICATOR_PUBLISH_INTERVAL_S).
    indicator_publish_interval_s: float = 300
