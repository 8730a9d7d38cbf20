"""Running a service app in-process, with its lifespan, behind an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from carethread.auth.tokens import mint_dev_token
from carethread.settings import AuthSettings, KafkaSettings, ServiceSettings

S = TypeVar("S", bound=ServiceSettings)

TANSU_CLIENT = {
    "fetch_max_wait_ms": 50,
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 2000,
    "request_timeout_ms": 10000,
}


def tansu_kafka_settings(bootstrap: str, prefix: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=prefix, **TANSU_CLIENT)  # type: ignore[arg-type]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start ``app``'s lifespan (migrations, relay, consumer) and yield a client for it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def bearer(
    auth: AuthSettings,
    *,
    roles: list[str],
    org: str = "F83004",
    sub: str = "tester",
    neighbourhoods: list[str] | None = None,
    teams: list[str] | None = None,
    boroughs: list[str] | None = None,
) -> dict[str, str]:
    token = mint_dev_token(
        auth,
        sub=sub,
        org=org,
        roles=roles,
        neighbourhoods=neighbourhoods or [],
        teams=teams or [],
        boroughs=boroughs or [],
    )
    return {"Authorization": f"Bearer {token}"}


def auth_settings(tmp: Path) -> AuthSettings:
    return AuthSettings(dev_key_path=tmp / "dev-signing-key.pem")


def settings_for_test(kind: type[S], database_url: str, auth: AuthSettings, **overrides: Any) -> S:
    """A service's settings for a test on ``database_url``: its own topics (``test.``), plain
    logs, and ``overrides``."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "auth": auth,
        "kafka": KafkaSettings(topic_prefix="test."),
        "log_json": False,
    }
    return kind(**(values | overrides))
