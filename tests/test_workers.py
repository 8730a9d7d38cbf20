"""A service can run as several server processes (``<SERVICE>_WORKERS``) over one database and
one broker: every write lands once, and exactly one outbox relay publishes it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from carethread.db import create_engine, session_factory
from carethread.db.tables import OutboxRow
from carethread.settings import AuthSettings, KafkaSettings
from carethread.testing.apps import bearer
from referrals.store.tables import ReferralRow
from tests.stack import DatabaseFactory, ServiceProcess, kafka_env, referral_body, wait_until


@pytest.mark.kafka
async def test_two_workers_serve_one_front_door(
    service_databases: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth: AuthSettings,
    tmp_path: Path,
) -> None:
    url = await service_databases("referrals")
    env = {
        **kafka_env(kafka_settings),
        "REFERRALS_DATABASE_URL": url,
        "REFERRALS_WORKERS": "2",
        "CARETHREAD_AUTH_DEV_KEY_PATH": str(auth.dev_key_path),
    }
    service = ServiceProcess("referrals", env, tmp_path / "referrals.log")
    await service.start()
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        "/api/v1/referrals",
                        json=referral_body(n),
                        headers=bearer(auth, roles=["referrer"]),
                    )
                    for n in range(40)
                )
            )
        assert [a.status_code for a in answers] == [201] * 40
        engine = create_engine(url, reader=True)
        sessions = session_factory(engine)

        async def all_published() -> bool:
            async with sessions() as s:
                waiting = await s.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(OutboxRow.published_at.is_(None))
                )
            return waiting == 0

        await wait_until(all_published, what="the relay to publish every event")
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(ReferralRow)) == 40
        await engine.dispose()
    finally:
        service.stop()
    log = (tmp_path / "referrals.log").read_text()
    assert log.count("service started") == 2  # two processes, each with its own app


def test_demo_data_is_loaded_with_one_worker_only(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "referrals"],
        env={
            "PATH": "",
            "REFERRALS_WORKERS": "2",
            "REFERRALS_LOAD_DEMO_DATA": "true",
            "REFERRALS_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "load the demo data with one worker" in done.stderr
    assert not list(tmp_path.iterdir())  # nothing started, nothing written
