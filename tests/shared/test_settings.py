"""Settings are configuration: read from the environment with the documented names and
defaults, and actually handed to the clients they configure."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

import carethread.messaging.kafka as kafka_module
from care_plans.settings import CarePlansSettings
from carethread.cli.services import BY_NAME, SERVICES, settings_for
from carethread.messaging import InMemoryBroker, KafkaBroker
from carethread.settings import AuthSettings, KafkaSettings, ServiceSettings
from carethread.testing.apps import running
from directory.settings import DirectorySettings
from mdt.settings import MdtSettings
from outcomes.settings import OutcomesSettings
from referrals.app import create_app as create_referrals
from referrals.settings import ReferralsSettings

SETTINGS: dict[str, type[ServiceSettings]] = {
    "referrals": ReferralsSettings,
    "care_plans": CarePlansSettings,
    "directory": DirectorySettings,
    "outcomes": OutcomesSettings,
    "mdt": MdtSettings,
}
PREFIXES = ("KAFKA_", "CARETHREAD_AUTH_", *(name.upper() + "_" for name in SETTINGS))
TIMINGS = {
    "KAFKA_FETCH_MAX_WAIT_MS": "50",
    "KAFKA_SESSION_TIMEOUT_MS": "6000",
    "KAFKA_HEARTBEAT_INTERVAL_MS": "2000",
    "KAFKA_REQUEST_TIMEOUT_MS": "10000",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: none of the platform's variables leak in from outside."""
    for name in list(os.environ):
        if name.upper().startswith(PREFIXES):
            monkeypatch.delenv(name)


# Broker client settings


def test_kafka_defaults_are_kafkas_own() -> None:
    s = KafkaSettings()
    assert s.fetch_max_wait_ms == 500  # fetch.max.wait.ms
    assert s.session_timeout_ms == 45_000  # session.timeout.ms (Kafka 3.0+)
    assert s.heartbeat_interval_ms == 3_000  # heartbeat.interval.ms
    assert s.request_timeout_ms == 30_000  # request.timeout.ms
    assert s.bootstrap_servers == "127.0.0.1:9092"
    assert s.topic_prefix == ""


def test_kafka_client_timings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in TIMINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "staging.")
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "3")
    s = KafkaSettings()
    assert s.fetch_max_wait_ms == 50
    assert s.session_timeout_ms == 6000
    assert s.heartbeat_interval_ms == 2000
    assert s.request_timeout_ms == 10_000
    assert s.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert s.topic_prefix == "staging."
    assert s.replication_factor == 3
    # Every service reads the same shared group.
    for settings_class in SETTINGS.values():
        assert settings_class().kafka == s


def test_a_malformed_timing_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SESSION_TIMEOUT_MS", "six seconds")
    with pytest.raises(ValueError, match="session_timeout_ms"):
        KafkaSettings()


async def test_the_kafka_broker_builds_its_consumer_with_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in TIMINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    settings = ReferralsSettings().kafka  # as a service gets them: from its environment
    consumer = KafkaBroker(settings)._consumer("carethread.referrals")
    try:
        assert consumer._fetch_max_wait_ms == 50
        assert consumer._session_timeout_ms == 6000
        assert consumer._heartbeat_interval_ms == 2000
        assert consumer._request_timeout_ms == 10_000
        assert consumer._group_id == "carethread.referrals"
        assert consumer._enable_auto_commit is False  # offsets only after the transaction
    finally:
        await consumer.stop()


async def test_the_defaults_reach_the_consumer_rather_than_aiokafkas_own() -> None:
    # aiokafka's own defaults differ (session 10 s, request 40 s): these must be passed.
    consumer = KafkaBroker(KafkaSettings())._consumer("g")
    try:
        assert consumer._fetch_max_wait_ms == 500
        assert consumer._session_timeout_ms == 45_000
        assert consumer._heartbeat_interval_ms == 3_000
        assert consumer._request_timeout_ms == 30_000
    finally:
        await consumer.stop()


class Recorder:
    """Stands in for an aiokafka client class and records how it was built."""

    def __init__(self) -> None:
        self.built: list[dict[str, Any]] = []
        self.subscribed: list[list[str]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Recorder.Client:
        assert not args
        self.built.append(kwargs)
        return Recorder.Client(self)

    class Client:
        def __init__(self, recorder: Recorder) -> None:
            self._recorder = recorder

        def subscribe(self, topics: list[str]) -> None:
            self._recorder.subscribed.append(list(topics))

        async def start(self) -> None:
            return None

        async def stop(self) -> None:
            return None


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> tuple[Recorder, Recorder]:
    consumers, producers = Recorder(), Recorder()
    monkeypatch.setattr(kafka_module, "AIOKafkaConsumer", consumers)
    monkeypatch.setattr(kafka_module, "AIOKafkaProducer", producers)
    return consumers, producers


async def test_the_subscriber_a_service_consumes_with_gets_the_settings(
    recorded: tuple[Recorder, Recorder],
) -> None:
    consumers, _ = recorded
    settings = KafkaSettings(
        bootstrap_servers="kafka-1:9092",
        fetch_max_wait_ms=123,
        session_timeout_ms=7_000,
        heartbeat_interval_ms=1_500,
        request_timeout_ms=9_000,
        client_id="carethread-test",
    )
    subscriber = KafkaBroker(settings).subscriber("carethread.mdt", ["a.v1", "b.v1"])
    await subscriber.start()
    await subscriber.stop()
    (kwargs,) = consumers.built
    assert kwargs["bootstrap_servers"] == "kafka-1:9092"
    assert kwargs["group_id"] == "carethread.mdt"
    assert kwargs["client_id"] == "carethread-test"
    assert kwargs["fetch_max_wait_ms"] == 123
    assert kwargs["session_timeout_ms"] == 7_000
    assert kwargs["heartbeat_interval_ms"] == 1_500
    assert kwargs["request_timeout_ms"] == 9_000
    assert kwargs["enable_auto_commit"] is False
    assert kwargs["auto_offset_reset"] == "earliest"
    assert consumers.subscribed == [["a.v1", "b.v1"]]


async def test_the_publisher_gets_the_settings_and_waits_for_all_replicas(
    recorded: tuple[Recorder, Recorder],
) -> None:
    _, producers = recorded
    settings = KafkaSettings(bootstrap_servers="kafka-1:9092", request_timeout_ms=9_000)
    publisher = KafkaBroker(settings).publisher()
    await publisher.start()
    await publisher.stop()
    (kwargs,) = producers.built
    assert kwargs["bootstrap_servers"] == "kafka-1:9092"
    assert kwargs["request_timeout_ms"] == 9_000
    assert kwargs["acks"] == "all"
    assert kwargs["enable_idempotence"] is False  # Tansu refuses it; the outbox covers it


# Auth settings


def test_auth_settings_come_from_carethread_auth_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert AuthSettings().jwks_url is None
    assert AuthSettings().dev_key_path == Path("data/dev-signing-key.pem")
    monkeypatch.setenv("CARETHREAD_AUTH_JWKS_URL", "https://login.example.nhs.invalid/jwks")
    monkeypatch.setenv("CARETHREAD_AUTH_DEV_KEY_PATH", str(tmp_path / "k.pem"))
    monkeypatch.setenv("CARETHREAD_AUTH_ISSUER", "https://login.example.nhs.invalid/")
    monkeypatch.setenv("CARETHREAD_AUTH_AUDIENCE", "api://carethread")
    for s in (AuthSettings(), MdtSettings().auth):
        assert s.jwks_url == "https://login.example.nhs.invalid/jwks"
        assert s.dev_key_path == tmp_path / "k.pem"
        assert s.issuer == "https://login.example.nhs.invalid/"
        assert s.audience == "api://carethread"


# Per-service settings


@pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])
def test_each_service_has_its_prefix_port_and_sqlite_default(service: Any) -> None:
    settings_class = SETTINGS[service.name]
    s = settings_class()
    assert settings_class.model_config.get("env_prefix") == service.env_prefix
    assert s.port == service.port  # the documented dev port, 8001..8005
    assert s.environment == "development"
    assert s.data_dir == Path("data")
    assert s.database_url == f"sqlite+aiosqlite:///data/{service.name}.db"
    url = make_url(s.database_url)
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == f"data/{service.name}.db"


@pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])
def test_each_service_reads_only_its_own_prefix(
    service: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    prefix = service.env_prefix
    monkeypatch.setenv(prefix + "PORT", "9001")
    monkeypatch.setenv(prefix + "ENVIRONMENT", "test")
    monkeypatch.setenv(prefix + "DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv(prefix + "CONSUMER_MAX_ATTEMPTS", "7")
    s = SETTINGS[service.name]()
    assert s.port == 9001
    assert s.environment == "test"
    assert s.consumer_max_attempts == 7
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'elsewhere' / service.name}.db"
    assert make_url(s.database_url).database == str(tmp_path / "elsewhere" / f"{service.name}.db")
    # The CLI (replay) reads the same variables without importing the service.
    from_cli = settings_for(service)
    assert (from_cli.port, from_cli.database_url) == (s.port, s.database_url)
    for other_name, other_class in SETTINGS.items():
        if other_name != service.name:
            other = other_class()
            assert other.port == BY_NAME[other_name].port
            assert other.environment == "development"
            assert other.database_url == f"sqlite+aiosqlite:///data/{other_name}.db"


def test_an_explicit_database_url_wins_over_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/carethread_referrals"
    monkeypatch.setenv("REFERRALS_DATABASE_URL", url)
    monkeypatch.setenv("REFERRALS_DATA_DIR", "/srv/carethread")
    assert ReferralsSettings().database_url == url
    monkeypatch.setenv("MDT_MAX_WAIT_MS", "2500")  # a service's own field, same prefix
    assert MdtSettings().max_wait_ms == 2500


def test_the_cli_knows_the_services_as_they_know_themselves() -> None:
    assert [s.name for s in SERVICES] == list(SETTINGS)
    for info in SERVICES:
        settings_class = SETTINGS[info.name]
        assert settings_class.service_name == info.name
        assert settings_class.default_port == info.port
        assert settings_class.model_config.get("env_prefix") == info.env_prefix


async def test_a_service_with_no_database_url_creates_its_sqlite_file_under_the_data_dir(
    tmp_path: Path, auth: AuthSettings
) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"
    settings = ReferralsSettings(data_dir=data_dir, auth=auth, log_json=False)
    assert settings.database_url == f"sqlite+aiosqlite:///{data_dir / 'referrals.db'}"
    async with running(create_referrals(settings, broker=InMemoryBroker())) as client:
        r = await client.get("/health/live")
        assert r.status_code == 200
    assert (data_dir / "referrals.db").is_file()
