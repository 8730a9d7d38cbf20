from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from carethread.messaging import InMemoryBroker
from carethread.settings import AuthSettings
from carethread.testing.apps import running, settings_for_test
from directory.app import create_app
from directory.settings import DirectorySettings


@pytest.fixture
def directory_settings(database_url: str, auth: AuthSettings) -> DirectorySettings:
    return settings_for_test(DirectorySettings, database_url, auth)


@pytest.fixture
def memory_broker() -> InMemoryBroker:
    return InMemoryBroker()


@pytest.fixture
async def directory_client(
    directory_settings: DirectorySettings, memory_broker: InMemoryBroker
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(directory_settings, broker=memory_broker)) as client:
        yield client
