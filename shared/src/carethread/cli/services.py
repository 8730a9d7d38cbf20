"""The five services as the CLI knows them: names, modules, env prefixes and dev ports.

The shared library never imports a service; it starts them by module name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from carethread.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    port: int

    @property
    def module(self) -> str:
        return self.name

    @property
    def env_prefix(self) -> str:
        return self.name.upper() + "_"


SERVICES = (
    ServiceInfo("referrals", 8001),
    ServiceInfo("care_plans", 8002),
    ServiceInfo("directory", 8003),
    ServiceInfo("outcomes", 8004),
    ServiceInfo("mdt", 8005),
)
BY_NAME = {s.name: s for s in SERVICES}


def settings_for(info: ServiceInfo) -> ServiceSettings:
    """The named service's settings, read from the same environment variables it reads."""

    class _Settings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix=info.env_prefix, extra="ignore")
        service_name: ClassVar[str] = info.name
        default_port: ClassVar[int] = info.port

    return _Settings()
