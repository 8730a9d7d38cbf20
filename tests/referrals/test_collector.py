"""The service process sets its garbage collector for request work when it starts."""

from __future__ import annotations

import asyncio
import gc

from carethread.messaging import InMemoryBroker
from carethread.testing.apps import running
from referrals.app import create_app
from referrals.collector import FIRST_THRESHOLD
from referrals.settings import ReferralsSettings


async def test_starting_the_service_raises_the_first_threshold(
    referrals_settings: ReferralsSettings,
) -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, before[1], before[2])
    try:
        async with running(create_app(referrals_settings, broker=InMemoryBroker())) as client:
            async with asyncio.timeout(5):
                while gc.get_threshold()[0] != FIRST_THRESHOLD:  # a start-up job sets it
                    await asyncio.sleep(0.01)
            assert (await client.get("/health/live")).status_code == 200
        assert gc.get_threshold() == (FIRST_THRESHOLD, before[1], before[2])
    finally:
        gc.set_threshold(*before)
