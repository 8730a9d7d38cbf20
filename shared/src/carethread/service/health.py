"""Liveness, readiness (database and broker) and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from carethread.service.runtime import RuntimeDep, ServiceRuntime

router = APIRouter(tags=["health"])


@router.get("/health/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "alive"}


async def _database(runtime: ServiceRuntime) -> str:
    try:
        async with asyncio.timeout(3):
            async with runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as e:  # reported, not raised
        return f"down: {type(e).__name__}: {e}"[:300]
    return "ok"


async def _broker(runtime: ServiceRuntime) -> str:
    relay = runtime.relay
    if relay.standby:
        return "standby: another replica's relay is active"
    if not relay.connected:
        return "down: the broker cannot be reached (events wait in the outbox)"
    try:
        await relay.ping()
    except Exception as e:  # reported, not raised
        return f"down: {e}"[:300]
    if runtime.consumer is not None and not runtime.consumer.connected:
        return "down: the consumer is not connected"
    return "ok"


@router.get("/health/ready", summary="Ready when the database and the broker are reachable")
async def ready(runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, Any] = {
        "database": await _database(runtime),
        "broker": await _broker(runtime),
    }
    ok = all(v == "ok" or str(v).startswith("standby") for v in checks.values())
    down = [k for k, v in checks.items() if v != "ok"]
    body = {"status": "ready" if ok else "unavailable", "checks": checks, "down": down}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
