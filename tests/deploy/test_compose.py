"""docker-compose.yml and the Dockerfile agree with the code they run.

No Docker engine is needed: the compose file is parsed as YAML (anchors and merge keys
resolved) and compared with the settings classes the services actually read. A setting
renamed in the code, or a variable misspelt in the compose file, fails here rather than
being silently ignored by pydantic-settings in production.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

from care_plans.settings import CarePlansSettings
from carethread.settings import AuthSettings, Environment, KafkaSettings, ServiceSettings
from directory.settings import DirectorySettings
from mdt.settings import MdtSettings
from outcomes.settings import OutcomesSettings
from referrals.settings import ReferralsSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
INIT_SQL = ROOT / "deploy" / "postgres" / "init.sql"

# What an operator passes for the variables the compose file requires (``${VAR:?...}``).
REQUIRED_VARIABLES = {
    "CARETHREAD_AUTH_JWKS_URL": "https://idp.example.org/.well-known/jwks.json",
    "CARETHREAD_AUTH_ISSUER": "https://idp.example.org/",
}


@dataclass(frozen=True)
class Service:
    module: str
    settings: type[ServiceSettings]

    @property
    def name(self) -> str:
        return self.settings.service_name

    @property
    def prefix(self) -> str:
        return str(self.settings.model_config.get("env_prefix", ""))


SERVICES = (
    Service("referrals", ReferralsSettings),
    Service("care_plans", CarePlansSettings),
    Service("directory", DirectorySettings),
    Service("outcomes", OutcomesSettings),
    Service("mdt", MdtSettings),
)
BY_ID = [s.name for s in SERVICES]


# --- reading the compose file -------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's variable substitution: ``${V}``, ``${V:-default}``, ``${V:?error}``, ``$$``."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"]
        given = variables.get(name)
        if given:
            return given
        if op in (":-", "-"):
            return str(arg)
        if op in (":?", "?"):
            raise AssertionError(f"compose requires {name}: {arg}")
        return ""

    return _VARIABLE.sub(replace, value)


def required_variables(text: str) -> set[str]:
    return {m["name"] for m in _VARIABLE.finditer(text) if m["op"] in (":?", "?")}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


def compose_service(compose: Mapping[str, Any], name: str) -> dict[str, Any]:
    services = compose["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    service = services[name]
    assert isinstance(service, dict)
    return service


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment, as a mapping, before variable substitution."""
    raw = service.get("environment", {})
    if isinstance(raw, list):
        pairs = (item.split("=", 1) for item in raw)
        return {k: v for k, v in pairs}
    assert isinstance(raw, dict)
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def resolved_environment(service: Mapping[str, Any]) -> dict[str, str]:
    return {k: interpolate(v, REQUIRED_VARIABLES) for k, v in environment(service).items()}


def command(service: Mapping[str, Any]) -> list[str]:
    raw = service["command"]
    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


# --- what the settings classes read -------------------------------------------------------


def env_names(settings: type[BaseSettings]) -> set[str]:
    """Every variable a settings class reads: its prefix + each field, and the variables of
    the nested settings groups (Kafka, auth) under their own prefixes."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field, info in settings.model_fields.items():
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseSettings):
            names |= env_names(nested)
        else:
            names.add((prefix + field).upper())
    return names


def test_nested_settings_groups_are_kafka_and_auth() -> None:
    names = env_names(ReferralsSettings)
    assert "KAFKA_BOOTSTRAP_SERVERS" in names
    assert "KAFKA_REPLICATION_FACTOR" in names
    assert "CARETHREAD_AUTH_JWKS_URL" in names
    assert KafkaSettings.model_config.get("env_prefix") == "KAFKA_"
    assert AuthSettings.model_config.get("env_prefix") == "CARETHREAD_AUTH_"
    # The nested groups are read under their own prefixes, never as REFERRALS_KAFKA.
    assert "REFERRALS_KAFKA" not in names
    assert "REFERRALS_AUTH" not in names


# --- the five services --------------------------------------------------------------------


def test_compose_runs_exactly_the_five_services(compose: dict[str, Any]) -> None:
    built = {
        name
        for name, service in compose["services"].items()
        if isinstance(service, dict) and "build" in service
    }
    assert built == {s.name for s in SERVICES}
    assert {"kafka", "postgres"} <= set(compose["services"])


@pytest.mark.parametrize("service", SERVICES, ids=BY_ID)
def test_service_is_built_from_the_root_dockerfile(
    compose: dict[str, Any], service: Service
) -> None:
    build = compose_service(compose, service.name)["build"]
    if isinstance(build, str):
        build = {"context": build}
    assert build["context"] == "."
    assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
    assert (COMPOSE_FILE.parent / build["context"] / "Dockerfile").resolve() == DOCKERFILE


@pytest.mark.parametrize("service", SERVICES, ids=BY_ID)
def test_service_command_runs_its_module(compose: dict[str, Any], service: Service) -> None:
    assert command(compose_service(compose, service.name)) == ["python", "-m", service.module]
    assert importlib.util.find_spec(f"{service.module}.__main__") is not None


@pytest.mark.parametrize("service", SERVICES, ids=BY_ID)
def test_service_port_is_its_default_port(compose: dict[str, Any], service: Service) -> None:
    spec = compose_service(compose, service.name)
    port = service.settings.default_port
    published = [str(p) for p in spec.get("ports", [])]
    assert published == [f"{port}:{port}"]
    env = resolved_environment(spec)
    assert env[f"{service.prefix}PORT"] == str(port)
    assert env[f"{service.prefix}HOST"] == "0.0.0.0"


@pytest.mark.parametrize("service", SERVICES, ids=BY_ID)
def test_service_sets_only_variables_its_settings_read(
    compose: dict[str, Any], service: Service
) -> None:
    accepted = env_names(service.settings)
    names = set(environment(compose_service(compose, service.name)))
    unknown = sorted(names - accepted)
    assert not unknown, f"{service.name} sets variables no settings class reads: {unknown}"
    # And the ones a production deployment cannot do without are there.
    needed = {
        f"{service.prefix}ENVIRONMENT",
        f"{service.prefix}HOST",
        f"{service.prefix}PORT",
        f"{service.prefix}DATABASE_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_REPLICATION_FACTOR",
        "CARETHREAD_AUTH_JWKS_URL",
    }
    assert needed <= names


@pytest.mark.parametrize("service", SERVICES, ids=BY_ID)
def test_service_runs_in_production_against_the_identity_provider(
    compose: dict[str, Any], service: Service
) -> None:
    env = environment(compose_service(compose, service.name))
    assert env[f"{service.prefix}ENVIRONMENT"] == "production"
    assert "production" in get_args(Environment)
    # The JWKS URL has no default: compose refuses to start without it.
    assert "CARETHREAD_AUTH_JWKS_URL" in required_variables(env["CARETHREAD_AUTH_JWKS_URL"])
    with pytest.raises(AssertionError, match="CARETHREAD_AUTH_JWKS_URL"):
        interpolate(env["CARETHREAD_AUTH_JWKS_URL"], {})


def test_every_required_variable_is_known() -> None:
    assert required_variables(COMPOSE_FILE.read_text()) == set(REQUIRED_VARIABLES)


def _created_databases() -> list[str]:
    return re.findall(r"(?im)^\s*CREATE\s+DATABASE\s+(\w+)\s*;", INIT_SQL.read_text())


@pytest.mark.parametrize("service", SERVICES, ids=BY_ID)
def test_service_database_is_its_own_on_postgres(compose: dict[str, Any], service: Service) -> None:
    url = make_url(
        resolved_environment(compose_service(compose, service.name))[
            f"{service.prefix}DATABASE_URL"
        ]
    )
    postgres = resolved_environment(compose_service(compose, "postgres"))
    assert url.drivername == "postgresql+asyncpg"
    assert url.host == "postgres"
    assert url.port in (None, 5432)
    assert url.username == postgres["POSTGRES_USER"]
    assert url.password == postgres["POSTGRES_PASSWORD"]
    assert url.database == f"carethread_{service.name}"
    assert url.database in _created_databases()


def test_init_sql_creates_exactly_the_service_databases(compose: dict[str, Any]) -> None:
    created = _created_databases()
    assert sorted(created) == sorted(f"carethread_{s.name}" for s in SERVICES)
    mounts = [str(v) for v in compose_service(compose, "postgres").get("volumes", [])]
    assert any(
        m.startswith("./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/") for m in mounts
    ), mounts


@pytest.mark.parametrize("service", SERVICES, ids=BY_ID)
def test_service_waits_for_healthy_kafka_and_postgres(
    compose: dict[str, Any], service: Service
) -> None:
    depends_on = compose_service(compose, service.name)["depends_on"]
    assert isinstance(depends_on, dict)
    for dependency in ("kafka", "postgres"):
        assert depends_on[dependency]["condition"] == "service_healthy"
        assert "test" in compose_service(compose, dependency)["healthcheck"]


@pytest.mark.parametrize("service", SERVICES, ids=BY_ID)
def test_service_healthcheck_asks_for_readiness(compose: dict[str, Any], service: Service) -> None:
    test = compose_service(compose, service.name)["healthcheck"]["test"]
    probe = " ".join(test) if isinstance(test, list) else str(test)
    assert f":{service.settings.default_port}/health/ready" in probe
    # The slim image has no curl: the probe is Python's urllib.
    assert "urllib.request" in probe
    assert "curl" not in probe


def test_kafka_is_a_single_kraft_node(compose: dict[str, Any]) -> None:
    kafka = compose_service(compose, "kafka")
    env = resolved_environment(kafka)
    assert "broker" in env["KAFKA_PROCESS_ROLES"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"]
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"


# --- the compose environment, read by the real settings classes ---------------------------


@pytest.mark.parametrize("service", SERVICES, ids=BY_ID)
def test_settings_loaded_from_the_compose_environment(
    compose: dict[str, Any], service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in env_names(service.settings) & set(os.environ):
        monkeypatch.delenv(name)
    env = resolved_environment(compose_service(compose, service.name))
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    settings = service.settings()

    assert settings.environment == "production"
    assert settings.host == "0.0.0.0"
    assert settings.port == service.settings.default_port
    assert settings.database_url == env[f"{service.prefix}DATABASE_URL"]
    assert settings.database_url.endswith(f"@postgres:5432/carethread_{service.name}")
    assert settings.kafka.bootstrap_servers == "kafka:9092"
    assert settings.kafka.replication_factor == 1
    assert settings.auth.jwks_url == REQUIRED_VARIABLES["CARETHREAD_AUTH_JWKS_URL"]
    assert settings.auth.issuer == REQUIRED_VARIABLES["CARETHREAD_AUTH_ISSUER"]


# --- the image ----------------------------------------------------------------------------


def _dockerfile_instructions() -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_dockerfile_installs_the_locked_production_dependencies() -> None:
    instructions = _dockerfile_instructions()
    assert instructions[0].startswith("FROM python:3.11-slim")
    syncs = [shlex.split(i) for i in instructions if i.startswith("RUN") and "uv sync" in i]
    assert syncs, "the Dockerfile never runs uv sync"
    for sync in syncs:
        assert "--locked" in sync
        assert "--no-dev" in sync
        assert "--all-packages" in sync
    assert any(i.startswith("RUN pip install") and "uv" in i for i in instructions)
    assert "ENV PATH=/app/.venv/bin:$PATH" in instructions


def test_dockerfile_runs_as_an_unprivileged_user() -> None:
    users = [i.split(None, 1)[1] for i in _dockerfile_instructions() if i.startswith("USER ")]
    assert users, "the Dockerfile never leaves root"
    assert users[-1] not in ("root", "0", "0:0")


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = {
        line.strip().strip("/").removeprefix("**/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"data", ".venv", "tests", "bench", "__pycache__"} <= ignored
