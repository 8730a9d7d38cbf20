"""Dependencies the directory's routers share: the clock, roles, settings, versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header

from carethread.auth import Principal, require_roles
from carethread.errors import BadRequest
from carethread.service import RuntimeDep
from directory.settings import DirectorySettings


async def clock() -> datetime:
    """The time now; tests replace this dependency to move time on."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(clock)]
# Curators look after the directory; admins may do what they do.
Curator = Annotated[Principal, Depends(require_roles("curator", "admin"))]


async def directory_settings(runtime: RuntimeDep) -> DirectorySettings:
    settings = runtime.settings
    return settings if isinstance(settings, DirectorySettings) else DirectorySettings()


Settings = Annotated[DirectorySettings, Depends(directory_settings)]


async def stale_after(settings: Settings) -> timedelta:
    return settings.stale_after


StaleAfter = Annotated[timedelta, Depends(stale_after)]


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(alias="If-Match", description="the version you read; 412 if it has moved on"),
    ] = None,
) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise BadRequest(f'If-Match must be a listing version, like "3"; got {if_match!r}.')
    return int(value)


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
