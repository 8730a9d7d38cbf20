"""Building and running a CareThread service."""

from carethread.service.app import InsecureConfiguration, create_service_app, serve
from carethread.service.runtime import (
    RuntimeDep,
    ServiceDefinition,
    ServiceRuntime,
    UoWDep,
)

__all__ = [
    "InsecureConfiguration",
    "RuntimeDep",
    "ServiceDefinition",
    "ServiceRuntime",
    "UoWDep",
    "create_service_app",
    "serve",
]
