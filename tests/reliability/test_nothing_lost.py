"""Nothing lost, nothing applied twice — with a real Tansu broker that a test pauses, restarts
(losing everything, as memory storage does) or that outlives a killed consumer process."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from carethread.settings import AuthSettings
from carethread.testing.apps import bearer, tansu_kafka_settings
from carethread.testing.tansu import TansuBroker
from tests.reliability.support import (
    inbox_count,
    mdt_projection,
    outbox_size,
    referral_volume,
    run_replay,
    unpublished,
)
from tests.stack import (
    NEIGHBOURHOOD,
    Brokers,
    DatabaseFactory,
    ServiceProcess,
    Stack,
    app_client,
    caseload_ids,
    kafka_env,
    mdt_app,
    outcomes_app,
    referrals_app,
    wait_until,
)

# How long a view may take to catch up after a pause or restart of the broker: a bound on a
# hang, not a speed (a full run on a host several times slower than usual took over 90 s
# for outcomes to count the replayed events once).
RECOVERY_S = 180

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(4 * RECOVERY_S)]


def brokers_on(tansu: TansuBroker, prefix: str | None = None) -> Brokers:
    prefix = prefix or f"r{uuid.uuid4().hex[:8]}."
    return Brokers("tansu", tansu_kafka_settings(tansu.bootstrap_servers, prefix))


async def test_writes_accepted_while_the_broker_is_paused_all_arrive(
    tansu: TansuBroker, service_databases: DatabaseFactory, auth: AuthSettings
) -> None:
    brokers = brokers_on(tansu)
    referrals_db, mdt_db = await service_databases("referrals"), await service_databases("mdt")
    async with (
        app_client(mdt_app(mdt_db, auth, brokers)) as mdt,
        app_client(referrals_app(referrals_db, auth, brokers)) as referrals,
    ):
        stack = Stack(auth=auth, referrals=referrals)
        before = [await stack.refer(n) for n in range(5)]

        async def caseload_has(n: int) -> bool:
            return len(await caseload_ids(mdt, auth)) == n

        await wait_until(lambda: caseload_has(5), what="the first writes")

        tansu.pause()  # SIGSTOP: the broker neither answers nor closes connections
        paused_at = time.monotonic()
        during = []
        try:
            for n in range(5, 25):
                during.append(await stack.refer(n))  # writes never wait for the broker
                await asyncio.sleep(0.25)
            assert await unpublished(referrals_db) > 0  # they really are waiting
        finally:
            await asyncio.sleep(max(0.0, 6 - (time.monotonic() - paused_at)))
            tansu.resume()

        await wait_until(
            lambda: caseload_has(25), timeout=RECOVERY_S, what="writes made during the pause"
        )
        expected = sorted(w["referral_id"] for w in before + during)
        assert sorted(await caseload_ids(mdt, auth)) == expected
        assert await inbox_count(mdt_db) == 25  # each applied once


async def test_a_consumer_killed_mid_stream_skips_nothing(
    tansu: TansuBroker, service_databases: DatabaseFactory, auth: AuthSettings, tmp_path: Path
) -> None:
    brokers = brokers_on(tansu)
    assert brokers.kafka is not None
    referrals_db, mdt_db = await service_databases("referrals"), await service_databases("mdt")
    env = {
        **kafka_env(brokers.kafka),
        "MDT_DATABASE_URL": mdt_db,
        "CARETHREAD_AUTH_DEV_KEY_PATH": str(auth.dev_key_path),
    }
    headers = bearer(auth, roles=["practitioner"], neighbourhoods=[NEIGHBOURHOOD])

    async def projected(process: ServiceProcess) -> int:
        async with httpx.AsyncClient(base_url=process.url) as client:
            return len(await caseload_ids(client, auth))

    mdt = ServiceProcess("mdt", env, tmp_path / "mdt.log")
    await mdt.start()
    try:
        async with app_client(referrals_app(referrals_db, auth, brokers)) as referrals:
            stack = Stack(auth=auth, referrals=referrals)
            written = [await stack.refer(n) for n in range(20)]
            await wait_until(
                lambda: _at_least(projected(mdt), 5), what="the consumer to be mid-stream"
            )
            mdt.kill()  # mid-stream: some events applied, offsets possibly not committed
            written += [await stack.refer(n) for n in range(20, 40)]
            mdt = ServiceProcess("mdt", env, tmp_path / "mdt.log")
            await mdt.start()
            written += [await stack.refer(n) for n in range(40, 60)]

            async def all_there() -> bool:
                return await projected(mdt) == len(written)

            await wait_until(all_there, timeout=RECOVERY_S, what="every referral after the restart")
            async with httpx.AsyncClient(base_url=mdt.url, headers=headers) as client:
                ids = await caseload_ids(client, auth)
            assert sorted(ids) == sorted(w["referral_id"] for w in written)
            assert await inbox_count(mdt_db) == len(written)  # none applied twice
    finally:
        mdt.stop()


async def _at_least(count: object, n: int) -> bool:
    value = await count  # type: ignore[misc]
    return bool(value >= n)


async def test_replay_into_an_empty_topic_rebuilds_an_equal_projection(
    tansu: TansuBroker, service_databases: DatabaseFactory, auth: AuthSettings
) -> None:
    original = brokers_on(tansu)
    referrals_db, mdt_db = await service_databases("referrals"), await service_databases("mdt")
    async with (
        app_client(mdt_app(mdt_db, auth, original)) as mdt,
        app_client(referrals_app(referrals_db, auth, original)) as referrals,
    ):
        stack = Stack(auth=auth, referrals=referrals)
        for n in range(30):
            await stack.refer(n % 12)  # several referrals for some people

        async def caseload_has_30() -> bool:
            return len(await caseload_ids(mdt, auth)) == 30

        await wait_until(caseload_has_30, what="the original projection")

    # A new view on topics nobody has written to, filled only by replaying the outbox.
    rebuilt = brokers_on(tansu)
    assert rebuilt.kafka is not None
    rebuilt_db = await service_databases("mdt_rebuilt")
    async with app_client(mdt_app(rebuilt_db, auth, rebuilt)) as fresh_mdt:
        assert await caseload_ids(fresh_mdt, auth) == []
        result = run_replay(referrals_db, rebuilt.kafka)
        # Every event the front door wrote: 30 referrals, their audit events, person events.
        written = await outbox_size(referrals_db)
        assert written > 60
        assert f"Replayed {written} events" in result.stderr

        async def rebuilt_has_30() -> bool:
            return len(await caseload_ids(fresh_mdt, auth)) == 30

        await wait_until(rebuilt_has_30, what="the rebuilt projection")
        await asyncio.sleep(0.5)  # nothing more should arrive
    assert await mdt_projection(rebuilt_db) == await mdt_projection(mdt_db)


async def test_after_a_broker_restart_that_loses_everything_replay_since_restores_every_view(
    tansu: TansuBroker, service_databases: DatabaseFactory, auth: AuthSettings
) -> None:
    brokers = brokers_on(tansu)
    assert brokers.kafka is not None
    referrals_db = await service_databases("referrals")
    mdt_db, outcomes_db = await service_databases("mdt"), await service_databases("outcomes")
    async with (
        app_client(outcomes_app(outcomes_db, auth, brokers)),
        app_client(referrals_app(referrals_db, auth, brokers)) as referrals,
    ):
        stack = Stack(auth=auth, referrals=referrals)
        async with app_client(mdt_app(mdt_db, auth, brokers)) as mdt:
            first = [await stack.refer(n) for n in range(10)]

            async def mdt_has_first() -> bool:
                return len(await caseload_ids(mdt, auth)) == 10

            await wait_until(mdt_has_first, what="the first batch in the MDT view")

        # The MDT view is down; these are published but nobody in MDT reads them ...
        since = datetime.now(UTC)
        lost = [await stack.refer(n) for n in range(10, 20)]

        async def all_published() -> bool:
            return await unpublished(referrals_db) == 0

        await wait_until(all_published, what="the second batch to be published")
        tansu.restart()  # ... and the broker restarts with nothing: topics, messages, offsets

        async with app_client(mdt_app(mdt_db, auth, brokers)) as mdt:
            # Services recreate their topics and keep working.
            after = [await stack.refer(n) for n in range(20, 30)]

            async def mdt_has(expected: list[dict[str, str]]) -> bool:
                ids = set(await caseload_ids(mdt, auth))
                return {w["referral_id"] for w in expected} <= ids

            await wait_until(
                lambda: mdt_has(after), timeout=RECOVERY_S, what="writes after the restart"
            )
            assert not {w["referral_id"] for w in lost} & set(await caseload_ids(mdt, auth))

            # The operator replays the front door's outbox since before the loss.
            run_replay(referrals_db, brokers.kafka, since=since)
            everything = first + lost + after
            await wait_until(
                lambda: mdt_has(everything), timeout=RECOVERY_S, what="the replayed events"
            )

            async def outcomes_has_all() -> bool:
                return await referral_volume(outcomes_db) >= len(everything)

            await wait_until(
                outcomes_has_all, timeout=RECOVERY_S, what="outcomes to count everything"
            )
            await asyncio.sleep(1)  # let any duplicate delivery land before counting
            assert sorted(await caseload_ids(mdt, auth)) == sorted(
                w["referral_id"] for w in everything
            )
            assert await inbox_count(mdt_db) == len(everything)
            assert await referral_volume(outcomes_db) == len(everything)  # none counted twice
