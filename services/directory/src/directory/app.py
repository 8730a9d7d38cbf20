"""The VCSE and social prescribing directory (Open Referral UK)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from carethread.db import MigrationSource
from carethread.events import topics
from carethread.messaging import Broker
from carethread.service import ServiceDefinition, create_service_app
from directory.api.cors import OpenCors
from directory.api.imports import router as imports_router
from directory.api.oruk import router as oruk_router
from directory.api.proposals import router as proposals_router
from directory.api.search import router as search_router
from directory.api.services import router as services_router
from directory.api.uptake import router as uptake_router
from directory.demo import load_demo_data
from directory.fhir.router import router as fhir_router
from directory.handlers import router as event_router
from directory.settings import DirectorySettings

DEFINITION = ServiceDefinition(
    name="directory",
    title="CareThread directory",
    description="The VCSE and social prescribing directory (Open Referral UK).",
    migrations=MigrationSource(Path(__file__).parent / "migrations", "alembic_version"),
    # Search first: /api/v1/services/search must not be taken for a service id.
    routers=[
        search_router,
        services_router,
        proposals_router,
        imports_router,
        uptake_router,
        oruk_router,
        fhir_router,
    ],
    publishes=[topics.DIRECTORY, topics.AUDIT],
    consumes=event_router,
    demo_data=load_demo_data,
    # Every connection, from its start (no statement of its own):
    # - a plan for each statement's own values: a prepared statement's generic plan (chosen
    #   after a few runs) cannot tell a rare word from a common one or a wide radius from a
    #   narrow one, and was seen to read a whole box of search rows row by row, ten times
    #   slower;
    # - no parallel workers: a broad search planned with two of them spent about 2.5 times
    #   the CPU of one process (each worker scans, sorts and starts up), for a small gain in
    #   its own latency; searches come many at once on a few cores, where CPU runs out.
    postgres_settings={
        "plan_cache_mode": "force_custom_plan",
        "max_parallel_workers_per_gather": "0",
    },
)


def create_app(
    settings: DirectorySettings | None = None, *, broker: Broker | None = None
) -> FastAPI:
    app = create_service_app(DEFINITION, settings or DirectorySettings(), broker=broker)
    app.add_middleware(OpenCors)
    return app
