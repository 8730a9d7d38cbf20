"""Dependencies the routes share: the clock, the roles, the settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header

from carethread.auth import Principal, require_roles
from carethread.service import RuntimeDep
from outcomes.domain.access import ANALYST_ROLES
from outcomes.settings import OutcomesSettings


async def clock() -> datetime:
    """The time now; tests replace this dependency to move time on."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(clock)]
Analyst = Annotated[Principal, Depends(require_roles(*ANALYST_ROLES))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="a retry with the same key returns the original measure",
    ),
]


async def outcomes_settings(runtime: RuntimeDep) -> OutcomesSettings:
    settings = runtime.settings
    return settings if isinstance(settings, OutcomesSettings) else OutcomesSettings()


Settings = Annotated[OutcomesSettings, Depends(outcomes_settings)]
