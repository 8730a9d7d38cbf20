from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from carethread.settings import KafkaSettings
from tests.stack import Brokers, DatabaseFactory, databases

pytest_plugins = ["carethread.testing.fixtures"]


@pytest.fixture
async def service_databases(database_kind: str, tmp_path: Path) -> AsyncIterator[DatabaseFactory]:
    """``await service_databases("mdt")``: an empty database of its own for each service."""
    async with databases(database_kind, tmp_path) as make:
        yield make


@pytest.fixture
def brokers(broker_kind: str, request: pytest.FixtureRequest) -> Brokers:
    """The in-memory broker shared by every app, or each app's own client of one Tansu."""
    if broker_kind == "memory":
        return Brokers("memory", None)
    kafka: KafkaSettings = request.getfixturevalue("kafka_settings")
    return Brokers("tansu", kafka)
