from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from carethread.settings import ServiceSettings
from referrals.domain.sla import SlaTargets


class ReferralsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRALS_", extra="ignore")
    service_name: ClassVar[str] = "referrals"
    default_port: ClassVar[int] = 8001

    # Response-time targets to triage, by urgency (REFERRALS_SLA_...).
    sla_emergency_hours: float = 2
    sla_urgent_hours: float = 24
    sla_routine_working_days: int = 5
    # How often the SLA watch looks for newly breached referrals (REFERRALS_SLA_WATCH_INTERVAL_S).
    sla_watch_interval_s: float = 30

    @property
    def sla_targets(self) -> SlaTargets:
        return SlaTargets(
            emergency_hours=self.sla_emergency_hours,
            urgent_hours=self.sla_urgent_hours,
            routine_working_days=self.sla_routine_working_days,
        )
