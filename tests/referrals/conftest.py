from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings
from carethread.testing.apps import running, settings_for_test
from referrals.app import create_app
from referrals.settings import ReferralsSettings


@pytest.fixture
def memory_broker() -> InMemoryBroker:
    return InMemoryBroker()


@pytest.fixture
def referrals_settings(database_url: str, auth: AuthSettings) -> ReferralsSettings:
    return settings_for_test(ReferralsSettings, database_url, auth, max_body_bytes=64_000)


@pytest.fixture
async def referrals_client(
    referrals_settings: ReferralsSettings, memory_broker: InMemoryBroker
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(referrals_settings, broker=memory_broker)) as client:
        yield client
