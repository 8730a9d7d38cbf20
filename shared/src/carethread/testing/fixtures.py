"""pytest fixtures: ``database_url`` runs a test on SQLite and PostgreSQL, ``broker`` on
the in-memory broker and a real Tansu; ``tansu`` is a broker process of the test's own.

PostgreSQL tests skip with the reason when no server answers, unless
``CARETHREAD_REQUIRE_POSTGRES=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from carethread.messaging import Broker, InMemoryBroker, KafkaBroker
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import auth_settings, tansu_kafka_settings
from carethread.testing.databases import (
    postgres_available,
    postgres_required,
    temporary_postgres_database,
)
from carethread.testing.tansu import TansuBroker

_postgres_status: dict[str, str | None] = {}


async def _check_postgres() -> None:
    if "reason" not in _postgres_status:
        _postgres_status["reason"] = await postgres_available()
    reason = _postgres_status["reason"]
    if reason:
        if postgres_required():
            pytest.fail(f"{reason} (CARETHREAD_REQUIRE_POSTGRES is set)")
        pytest.skip(reason)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    await _check_postgres()
    async with temporary_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_kind(request: pytest.FixtureRequest) -> str:
    """For tests that make several databases (one per service) of one kind."""
    kind: str = request.param
    if kind == "postgres":
        await _check_postgres()
    return kind


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """For the PostgreSQL-only behaviours (advisory locks, concurrent writers)."""
    await _check_postgres()
    async with temporary_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def shared_tansu() -> Iterator[str]:
    """One broker for the session (or the one in KAFKA_BOOTSTRAP_SERVERS); tests isolate
    themselves with a topic prefix of their own."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    broker = TansuBroker().start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture
def tansu() -> Iterator[TansuBroker]:
    """A broker process of this test's own, to pause, resume and restart."""
    broker = TansuBroker().start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def kafka_settings(shared_tansu: str, topic_prefix: str) -> KafkaSettings:
    return tansu_kafka_settings(shared_tansu, topic_prefix)


@pytest.fixture(params=["memory", pytest.param("tansu", marks=pytest.mark.kafka)])
def broker_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def broker(broker_kind: str, request: pytest.FixtureRequest) -> Broker:
    if broker_kind == "memory":
        return InMemoryBroker()
    settings: KafkaSettings = request.getfixturevalue("kafka_settings")
    return KafkaBroker(settings)


@pytest.fixture
def auth(tmp_path: Path) -> AuthSettings:
    return auth_settings(tmp_path)
