"""Several services at once, each with its own database, talking over one broker.

In-process apps (``running``) for most tests; real service processes (``ServiceProcess``)
where a test must kill one the way an operating system would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
from fastapi import FastAPI

from care_plans.app import create_app as create_care_plans
from care_plans.settings import CarePlansSettings
from carethread.messaging import Broker, InMemoryBroker, KafkaBroker
from carethread.nhs import synthetic_nhs_numbers
from carethread.settings import AuthSettings, KafkaSettings, ServiceSettings
from carethread.testing.apps import TANSU_CLIENT, bearer, running
from carethread.testing.databases import temporary_postgres_database
from carethread.testing.tansu import free_port
from directory.app import create_app as create_directory
from directory.settings import DirectorySettings
from mdt.app import create_app as create_mdt
from mdt.settings import MdtSettings
from outcomes.app import create_app as create_outcomes
from outcomes.settings import OutcomesSettings
from referrals.app import create_app as create_referrals
from referrals.settings import ReferralsSettings

S = TypeVar("S", bound=ServiceSettings)

DatabaseFactory = Callable[[str], Awaitable[str]]
PRACTICE, NEIGHBOURHOOD = "F83004", "U02795"  # Archway Medical Centre, North 2 Islington PCN


@asynccontextmanager
async def databases(kind: str, tmp_path: Path) -> AsyncIterator[DatabaseFactory]:
    """A factory of empty databases, one per service name, all removed afterwards."""
    async with AsyncExitStack() as stack:

        async def make(name: str) -> str:
            if kind == "sqlite":
                return f"sqlite+aiosqlite:///{tmp_path / name}.db"
            return await stack.enter_async_context(temporary_postgres_database(f"ct_{name}"))

        yield make


def referral_body(n: int, *, practice: str = PRACTICE) -> dict[str, object]:
    nhs = next(synthetic_nhs_numbers(start=10_000 + n))
    return {
        "person": {
            "nhs_number": nhs,
            "given_name": f"Person{n}",
            "family_name": "Synthetic",
            "birth_date": "1950-01-01",
            "postcode": "N19 3NU",
            "gp_practice_code": practice,
        },
        "referrer": {"name": "Dr Example", "role": "GP", "org": practice},
        "source": "gp",
        "urgency": "routine",
        "reasons": ["isolation"],
        "story": "Synthetic test referral.",
    }


@dataclass
class Stack:
    """The front door and two consumers of its events, as a user would call them."""

    auth: AuthSettings
    referrals: httpx.AsyncClient
    mdt: httpx.AsyncClient | None = None
    outcomes_db: str | None = None

    async def refer(self, n: int) -> dict[str, str]:
        r = await self.referrals.post(
            "/api/v1/referrals",
            json=referral_body(n),
            headers=bearer(self.auth, roles=["referrer"]),
        )
        assert r.status_code == 201, r.text
        body: dict[str, str] = r.json()
        return body


class Brokers:
    """One broker per app, as separate processes would have: the same in-memory broker
    shared, or a Kafka client of each app's own against the same Tansu."""

    def __init__(self, kind: str, kafka: KafkaSettings | None) -> None:
        self.kind = kind
        self.kafka = kafka
        self.memory = InMemoryBroker()

    def for_app(self) -> Broker:
        if self.kind == "memory":
            return self.memory
        assert self.kafka is not None
        return KafkaBroker(self.kafka)


def _settings(settings_cls: type[S], url: str, auth: AuthSettings, brokers: Brokers) -> S:
    """A service's settings for a test stack: its database, the stack's broker, fast relay."""
    return settings_cls(
        database_url=url,
        auth=auth,
        kafka=brokers.kafka or KafkaSettings(topic_prefix="mem."),
        log_json=False,
        relay_poll_interval_ms=50,
    )


def referrals_app(url: str, auth: AuthSettings, brokers: Brokers) -> FastAPI:
    settings = _settings(ReferralsSettings, url, auth, brokers)
    return create_referrals(settings, broker=brokers.for_app())


def care_plans_app(url: str, auth: AuthSettings, brokers: Brokers) -> FastAPI:
    settings = _settings(CarePlansSettings, url, auth, brokers)
    return create_care_plans(settings, broker=brokers.for_app())


def directory_app(url: str, auth: AuthSettings, brokers: Brokers) -> FastAPI:
    settings = _settings(DirectorySettings, url, auth, brokers)
    return create_directory(settings, broker=brokers.for_app())


def outcomes_app(url: str, auth: AuthSettings, brokers: Brokers) -> FastAPI:
    settings = _settings(OutcomesSettings, url, auth, brokers)
    return create_outcomes(settings, broker=brokers.for_app())


def mdt_app(url: str, auth: AuthSettings, brokers: Brokers) -> FastAPI:
    settings = _settings(MdtSettings, url, auth, brokers)
    return create_mdt(settings, broker=brokers.for_app())


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as client:
        yield client


async def caseload_ids(mdt: httpx.AsyncClient, auth: AuthSettings) -> list[str]:
    r = await mdt.get(
        f"/api/v1/neighbourhoods/{NEIGHBOURHOOD}/caseload",
        params={"limit": 500},
        headers=bearer(auth, roles=["practitioner"], neighbourhoods=[NEIGHBOURHOOD]),
    )
    assert r.status_code == 200, r.text
    # One line per person; each lists the person's open referrals.
    return [ref for item in r.json()["items"] for ref in item["open_referral_ids"]]


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 30, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.1)


class ServiceProcess:
    """A service run as `python -m <module>`, as in production: killable with SIGKILL."""

    def __init__(self, module: str, env: dict[str, str], log: Path) -> None:
        self.module = module
        self.port = free_port()
        prefix = module.upper() + "_"
        self.env = {
            **os.environ,
            **env,
            prefix + "PORT": str(self.port),
            prefix + "LOG_JSON": "false",
        }
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 60) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        async with httpx.AsyncClient(base_url=self.url) as client:
            deadline = time.monotonic() + timeout
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.module} exited: {self.log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/health/ready")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.module} not ready: {self.log.read_text()[-2000:]}")
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final offset commit."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def kafka_env(kafka: KafkaSettings) -> dict[str, str]:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
    }
    env.update({"KAFKA_" + k.upper(): str(v) for k, v in TANSU_CLIENT.items()})
    return env
